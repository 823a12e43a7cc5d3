package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"
)

// openPTY opens a pseudo-terminal (Linux's /dev/ptmx) with nothing but the
// standard library: the demo runs wpfix on a terminal, as a person does, so
// wpfix shows its progress and asks before it changes the site. ptm is the
// side the demo reads what is shown from and types into; pts is the
// terminal the program gets as its standard streams.
func openPTY() (ptm, pts *os.File, err error) {
	ptm, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	var n uint32
	if err := ioctl(ptm, syscall.TIOCSPTLCK, unsafe.Pointer(&n)); err != nil { // n is 0: unlock
		ptm.Close()
		return nil, nil, fmt.Errorf("unlock pseudo-terminal: %w", err)
	}
	if err := ioctl(ptm, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("number pseudo-terminal: %w", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	return ptm, pts, nil
}

// ioctl calls ioctl(2) on f with a pointer argument.
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// runOnTerminal runs cmd with a pseudo-terminal as its standard input,
// output and error, copies what it shows to w as it comes, and types the
// answer to each prompt in answers, as a person would: Enter included, the
// terminal echoing it. It returns everything shown, as the terminal sent
// it (CR LF line ends, escape sequences), and cmd's exit code.
func runOnTerminal(cmd *exec.Cmd, w io.Writer, answers map[string]string) (shown string, code int, err error) {
	ptm, pts, err := openPTY()
	if err != nil {
		return "", 0, err
	}
	defer ptm.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	err = cmd.Start()
	pts.Close() // the child holds its copies: when it ends, reads end
	if err != nil {
		return "", 0, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	var all strings.Builder
	buf := make([]byte, 4096)
	for {
		n, rerr := ptm.Read(buf)
		all.Write(buf[:n])
		if _, werr := w.Write(buf[:n]); werr != nil && err == nil {
			err = werr // keep reading: a blocked terminal would hang cmd
		}
		for prompt, answer := range answers {
			if n > 0 && strings.HasSuffix(all.String(), prompt) {
				if _, werr := io.WriteString(ptm, answer+"\r"); werr != nil && err == nil {
					err = fmt.Errorf("answer %q: %w", prompt, werr)
				}
			}
		}
		if rerr != nil {
			// Linux ends a pseudo-terminal whose other side has closed with EIO.
			if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, syscall.EIO) && err == nil {
				err = fmt.Errorf("read pseudo-terminal: %w", rerr)
			}
			break
		}
	}
	var exit *exec.ExitError
	if werr := cmd.Wait(); werr != nil && !errors.As(werr, &exit) {
		return all.String(), 0, fmt.Errorf("run %s: %w", cmd.Path, werr)
	}
	return all.String(), cmd.ProcessState.ExitCode(), err
}
