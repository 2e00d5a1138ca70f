package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ObjectStore keeps uploaded objects on disk (never in memory), one file per
// object plus a JSON sidecar with its metadata.
type ObjectStore struct {
	dir string
	mu  sync.Mutex
}

// Object is what the store knows about one stored object.
type Object struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	MD5         string `json:"md5"` // lowercase hex
	ContentType string `json:"content_type"`
	Path        string `json:"-"` // file holding the bytes
}

// ErrNoSuchObject is returned by Get for a missing object.
var ErrNoSuchObject = errors.New("no such object")

// ErrIncompleteBody means fewer bytes arrived than Content-Length announced.
var ErrIncompleteBody = errors.New("request body shorter than Content-Length")

// NewObjectStore opens (and creates) a store rooted at dir.
func NewObjectStore(dir string) (*ObjectStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: create store: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: create store: %w", err)
	}
	return &ObjectStore{dir: dir}, nil
}

func (o *ObjectStore) objectPath(bucket, key string) string {
	// Hex-encode the key so any key maps to one safe file name.
	return filepath.Join(o.dir, "objects", bucket, hex.EncodeToString([]byte(key)))
}

// TempFile creates a scratch file inside the store (for multipart parts
// and streaming writes).
func (o *ObjectStore) TempFile(pattern string) (*os.File, error) {
	return os.CreateTemp(filepath.Join(o.dir, "tmp"), pattern)
}

// WriteTemp streams exactly size bytes of r into a scratch file and returns
// its path and md5. It fails if r ends early or holds more than size bytes.
func (o *ObjectStore) WriteTemp(r io.Reader, size int64) (path, md5hex string, err error) {
	f, err := o.TempFile("upload-*")
	if err != nil {
		return "", "", err
	}
	defer func() {
		_ = f.Close()
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size))
	if err != nil {
		return "", "", err
	}
	if n != size {
		return "", "", ErrIncompleteBody
	}
	// Anything beyond the declared length is a client error.
	var one [1]byte
	if k, _ := r.Read(one[:]); k > 0 {
		return "", "", fmt.Errorf("request body longer than Content-Length %d", size)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// Commit moves a scratch file into place as bucket/key.
func (o *ObjectStore) Commit(tmpPath string, obj Object) (Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.objectPath(obj.Bucket, obj.Key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return Object{}, err
	}
	if err := os.Rename(tmpPath, p); err != nil {
		return Object{}, err
	}
	meta, err := json.Marshal(obj)
	if err != nil {
		return Object{}, err
	}
	if err := os.WriteFile(p+".json", meta, 0o644); err != nil {
		return Object{}, err
	}
	obj.Path = p
	return obj, nil
}

// Get returns an object's metadata and the path of its bytes.
func (o *ObjectStore) Get(bucket, key string) (Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.objectPath(bucket, key)
	meta, err := os.ReadFile(p + ".json")
	if errors.Is(err, os.ErrNotExist) {
		return Object{}, ErrNoSuchObject
	}
	if err != nil {
		return Object{}, err
	}
	var obj Object
	if err := json.Unmarshal(meta, &obj); err != nil {
		return Object{}, err
	}
	obj.Path = p
	return obj, nil
}

// Delete removes an object; a missing one is not an error.
func (o *ObjectStore) Delete(bucket, key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.objectPath(bucket, key)
	for _, f := range []string{p, p + ".json"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// List returns every object in a bucket.
func (o *ObjectStore) List(bucket string) ([]Object, error) {
	entries, err := os.ReadDir(filepath.Join(o.dir, "objects", bucket))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		raw, err := hex.DecodeString(strings.TrimSuffix(e.Name(), ".json"))
		if err != nil {
			continue
		}
		obj, err := o.Get(bucket, string(raw))
		if err == nil {
			out = append(out, obj)
		}
	}
	return out, nil
}

// drain discards what is left of a request body so the connection can be
// reused.
func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
}
