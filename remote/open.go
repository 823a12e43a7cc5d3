package remote

import "context"

// Open reaches a target's host: this machine for a local target, else one
// SSH connection, resolved and verified as dialSSH describes.
func Open(ctx context.Context, t Target, o Options) (Host, error) {
	if t.Local() {
		return NewLocal(), nil
	}
	c, err := dialSSH(ctx, t, o)
	if err != nil {
		return nil, err
	}
	return NewSSH(c, t.Host)
}
