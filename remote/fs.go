package remote

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
)

// FS returns a read-only io/fs view of a host's files, rooted at its "/":
// the name "etc/nginx/nginx.conf" is the host's /etc/nginx/nginx.conf.
// Every call goes through h with ctx, so cancelling ctx stops the reads. It
// implements fs.ReadFileFS, fs.StatFS and fs.ReadDirFS, plus ReadHead, so
// that code written against io/fs (and tested with testing/fstest.MapFS)
// reads a local or an SSH host alike. Stat follows symlinks; directory
// entries are as ReadDir lists them.
func FS(ctx context.Context, h Host) fs.FS {
	return hostFS{ctx: ctx, h: h}
}

// HeadFS is a file system that can read the start of a file without
// reading the rest, as the view FS returns can.
type HeadFS interface {
	fs.FS
	// ReadHead returns the first n bytes of the named file (all of it when
	// it is shorter).
	ReadHead(name string, n int64) ([]byte, error)
}

type hostFS struct {
	ctx context.Context
	h   Host
}

var (
	_ fs.ReadFileFS = hostFS{}
	_ fs.StatFS     = hostFS{}
	_ fs.ReadDirFS  = hostFS{}
	_ HeadFS        = hostFS{}
)

// hostPath turns a valid fs name into the host's absolute path.
func (f hostFS) hostPath(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return path.Join("/", name), nil
}

// hostOp runs one of the host's operations on name's path on the host, as the
// fs operation op: an invalid name is refused first, and the host's error
// is wrapped in an *fs.PathError naming name.
func hostOp[T any](f hostFS, op, name string, call func(p string) (T, error)) (T, error) {
	var zero T
	p, err := f.hostPath(op, name)
	if err != nil {
		return zero, err
	}
	v, err := call(p)
	if err != nil {
		return zero, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return v, nil
}

func (f hostFS) Open(name string) (fs.File, error) {
	var p string
	fi, err := hostOp(f, "open", name, func(hp string) (fs.FileInfo, error) { p = hp; return f.h.Stat(f.ctx, hp) })
	if err != nil {
		return nil, err
	}
	return &hostFile{fs: f, name: name, path: p, info: fi}, nil
}

func (f hostFS) ReadFile(name string) ([]byte, error) {
	return hostOp(f, "read", name, func(p string) ([]byte, error) { return f.h.ReadFile(f.ctx, p) })
}

func (f hostFS) ReadHead(name string, n int64) ([]byte, error) {
	return hostOp(f, "read", name, func(p string) ([]byte, error) { return f.h.ReadHead(f.ctx, p, n) })
}

func (f hostFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := hostOp(f, "stat", name, func(p string) (fs.FileInfo, error) { return f.h.Stat(f.ctx, p) })
	if err != nil {
		return nil, err
	}
	if name == "." {
		fi = renamed{fi, "."}
	}
	return fi, nil
}

func (f hostFS) ReadDir(name string) ([]fs.DirEntry, error) {
	list, err := hostOp(f, "readdir", name, func(p string) ([]fs.FileInfo, error) { return f.h.ReadDir(f.ctx, p) })
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(list))
	for i, fi := range list {
		out[i] = fs.FileInfoToDirEntry(fi)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	return out, nil
}

// renamed is a FileInfo under another name: the root is ".".
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

// hostFile is an open file of a hostFS: a regular file is read whole on
// the first Read, a directory listed on the first ReadDir.
type hostFile struct {
	fs         hostFS
	name, path string
	info       fs.FileInfo
	data       []byte
	read       bool
	off        int
	ents       []fs.DirEntry
	listed     bool
	closed     bool
}

func (f *hostFile) Stat() (fs.FileInfo, error) {
	if f.name == "." {
		return renamed{f.info, "."}, nil
	}
	return f.info, nil
}

func (f *hostFile) Read(b []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if f.info.IsDir() {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errors.New("is a directory")}
	}
	if !f.read {
		data, err := f.fs.h.ReadFile(f.fs.ctx, f.path)
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		f.data, f.read = data, true
	}
	if f.off >= len(f.data) {
		return 0, io.EOF
	}
	n := copy(b, f.data[f.off:])
	f.off += n
	return n, nil
}

func (f *hostFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: fs.ErrClosed}
	}
	if !f.info.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: errors.New("not a directory")}
	}
	if !f.listed {
		ents, err := f.fs.ReadDir(f.name)
		if err != nil {
			return nil, err
		}
		f.ents, f.listed = ents, true
	}
	if n <= 0 {
		out := f.ents
		f.ents = nil
		return out, nil
	}
	if len(f.ents) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(f.ents))
	out := f.ents[:n]
	f.ents = f.ents[n:]
	return out, nil
}

func (f *hostFile) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

var _ fs.ReadDirFile = (*hostFile)(nil)
