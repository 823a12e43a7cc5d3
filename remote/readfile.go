package remote

import (
	"io"
	"io/fs"
	"strings"
)

// An openFile is a file a host opened for reading: an *os.File on the
// local host, an *sftp.File over SSH. ReadHead and ReadTail are the same
// over either, so both hosts share readHead and readTail.
type openFile interface {
	io.ReadCloser
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}

// readHead opens path with open and returns its first n bytes. A regular
// file whose size is known is read with one ReadAt, which SFTP sends as
// requests side by side: a 200 kB nginx.conf costs one round trip, not
// seven. Files that say no size (/proc's, which are not asked) are read in
// turn.
func readHead[F openFile](open func(string) (F, error), path string, n int64) ([]byte, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.HasPrefix(path, "/proc/") {
		return io.ReadAll(io.LimitReader(f, n))
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if size := fi.Size(); fi.Mode().IsRegular() && size > 0 {
		buf := make([]byte, min(size, n))
		k, err := f.ReadAt(buf, 0)
		if err == io.EOF {
			err = nil // the file shrank since the stat: return what is there
		}
		return buf[:k], err
	}
	return io.ReadAll(io.LimitReader(f, n))
}

// readTail opens path with open and returns its last n bytes and its size.
func readTail[F openFile](open func(string) (F, error), path string, n int64) (tail []byte, size int64, err error) {
	f, err := open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size = fi.Size()
	tail, err = tailAt(f, size, n)
	return tail, size, err
}

// tailAt reads the last n bytes of a file of the given size.
func tailAt(r io.ReaderAt, size, n int64) ([]byte, error) {
	off := max(size-n, 0)
	buf := make([]byte, size-off)
	k, err := r.ReadAt(buf, off)
	if err == io.EOF {
		err = nil // the file shrank since the stat: return what is there
	}
	return buf[:k], err
}
