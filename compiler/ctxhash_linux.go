package compiler

import "syscall"

// statFile is what the index records of a file; false when it cannot be had (the file is
// then read).
func statFile(path string) (fileStat, bool) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fileStat{}, false
	}
	return fileStat{
		Size:  st.Size,
		Mtime: st.Mtim.Nano(),
		Ctime: st.Ctim.Nano(),
		Ino:   st.Ino,
		Dev:   uint64(st.Dev), //nolint:unconvert // uint32 on some architectures
		Mode:  st.Mode,
	}, true
}
