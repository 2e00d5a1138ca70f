//go:build darwin

package filestate

import (
	"os"
	"syscall"
)

func identityOf(fi os.FileInfo) Identity {
	id := Identity{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano(), CtimeNs: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Device = uint64(st.Dev)
		id.Inode = st.Ino
		id.CtimeNs = st.Ctimespec.Nano()
	}
	return id
}
