package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// What a person does in a platform's web console, outside any API client:
// tests use it to give the platform objects no client created, such as
// an audience a team later imports.

// ConsoleMintegralAudience creates a Mintegral audience the way Mintegral's
// console does: the file (one device ID per line, of deviceType) is
// uploaded through the console, which issues its data_path, and the
// audience is created from it at once, which starts its update window. It
// returns the new ta_id and the file's data_path. area is 1 or 2,
// platform 1 (Android), 2 (iOS) or 3 (mix).
func (s *Server) ConsoleMintegralAudience(name string, area, platform, deviceType int, file io.Reader) (int64, string, error) {
	if area != 1 && area != 2 {
		return 0, "", fmt.Errorf("sandbox: area_type must be 1 or 2, got %d", area)
	}
	bucket, scheme := BucketMintegralS3, "s3://"
	if area == 2 {
		bucket, scheme = BucketMintegralOSS, "oss://"
	}
	now := s.now()
	key := fmt.Sprintf("audience/%s/%s/%s/console.txt", s.cfg.Credentials.MintegralAccessKey, now.UTC().Format("20060102"), randomHex(8))
	f, err := s.store.TempFile("console-*")
	if err != nil {
		return 0, "", err
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), file)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		_, err = s.store.Commit(f.Name(), Object{Bucket: bucket, Key: key, Size: n, MD5: hex.EncodeToString(h.Sum(nil)), ContentType: "text/plain"})
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return 0, "", err
	}
	dataPath := scheme + bucket + "/" + key // the console stores on the built-in store, even with ExternalS3
	s.rememberMintegralDataPath(dataPath, area, bucket, key)
	st := &s.mintegralAudience
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	st.nextID++
	a := &MintegralAudience{
		ID: st.nextID, Name: name, AreaType: area, Platform: platform,
		Files:   []MintegralAudienceFile{{DeviceType: deviceType, DataPath: dataPath}},
		Created: now, Updated: now,
	}
	st.audiences[a.ID] = a
	return a.ID, dataPath, nil
}
