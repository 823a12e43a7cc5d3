package sshtest

// Stop kills s's sshd now rather than at the end of the test, so a
// benchmark does not keep one daemon per iteration alive.
func Stop(s *Server) { s.proc.Stop() }
