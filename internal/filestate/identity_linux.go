//go:build linux

package filestate

import (
	"os"
	"syscall"
)

func identityOf(fi os.FileInfo) Identity {
	id := Identity{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano(), CtimeNs: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Device = uint64(st.Dev) //nolint:unconvert // Dev is not uint64 on every architecture
		id.Inode = st.Ino
		id.CtimeNs = st.Ctim.Nano()
	}
	return id
}
