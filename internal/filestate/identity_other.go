//go:build !linux && !darwin

package filestate

import "os"

// identityOf falls back to size and modification time where the change
// time is not available; a zero inode keeps such records from matching a
// file that was replaced.
func identityOf(fi os.FileInfo) Identity {
	return Identity{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano(), CtimeNs: fi.ModTime().UnixNano()}
}
