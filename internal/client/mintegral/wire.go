package mintegral

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Wire shapes of the Mintegral Open API: every path, header, request body
// and answer the client knows, in one place, so a difference with the
// live API is corrected here and nowhere else. What is sent follows the
// published pages exactly; what is read is read liberally (see
// transfer.Answer), and an answer that still does not fit is a
// *transfer.ShapeError naming the call, the status, the request id and
// the answer's keys and types.
//
// What is published and what is assumed, and where each published fact
// comes from (seed = Mintegral's API document "Upload Audience File" this project
// started from):
//
//	call / fact                             | status    | source
//	----------------------------------------|-----------|--------------------------------------------------
//	headers access-key, timestamp, token =  | published | helpcenter.mintegral.com/en/docs/token-api
//	  md5(api_key + md5(timestamp))         |           |
//	envelope {code, msg, data}, code 200 is | published | every API page's field table says "msg", every
//	  success                               |           | example "message" (seed; create-audience-package)
//	envelope code as a string, message as   | assumed   | other servers of the family (errmsg, error_msg)
//	  errmsg / err_msg / error_msg          |           |
//	GET .../audience/presigned-upload-data  | published | seed; helpcenter.mintegral.com/en/docs/
//	  ?area_type&file_name&file_md5 → data  |           | upload-audience-package-file
//	  {area_type, file_name, file_md5, ttl, |           |
//	  s3 {method, url, data_path}}          |           |
//	  area 2: oss {method, accessid, host,  | published | seed (the current help center lists area 1 only)
//	  expire, signature, policy, dir,       |           |
//	  data_path}                            |           |
//	  s3.path for s3.data_path              | assumed   | the seed's own example names it {data.s3.path}
//	POST /api/open/v1/audience {ta_name,    | published | helpcenter.mintegral.com/en/docs/
//	  area_type, platform, data_path:       |           | create-audience-package
//	  [{device_type, data_path}]} → ta_id   |           |
//	PUT /api/open/v1/audience {ta_id,       | published | helpcenter.mintegral.com/en/docs/
//	  data_path} → ta_id (not read)         |           | update-audience-package
//	DELETE /api/open/v1/audience {ta_id:[]} | published | Mintegral's audience API (delete audience)
//	GET /api/open/v1/audience ?ta_ids,      | published | adv.mintegral.com/doc/en/guide/audience/
//	  ta_name, platform, limit, page → data |           | getAudienceList.html
//	  {page, limit, current_total, total,   |           |
//	  list [{ta_id, platform, ta_name,      |           |
//	  ta_type, device_type "2,8", area_type,|           |
//	  ctime, utime}]}                       |           |
//	device_type as a number or a list, an   | assumed   | the list field is a string of numbers; other
//	  empty page as list null or absent     |           | servers send arrays, or omit an empty list
//	error codes                             | assumed   | none published: only code != 200 is a failure,
//	                                        |           | and the message is shown as it is
//	rate limit in the body: a failure whose | assumed   | none published for this API; the sibling
//	  message says "rate limit exceeded"    |           | Mobvista TopMedia API v3 answers code 0 with
//	  (any code), or code 429               |           | "Rate limit exceeded" (open.3s.mobvista.com/docs/
//	                                        |           | en/mobvista-topmedia-api-v3/response/exception.html)
//	request id header                       | assumed   | none published; any of the usual headers
//	                                        |           | (transfer.RequestID) is named when sent

// API paths, relative to the endpoint.
const (
	pathPresign  = "/api/open/v1/audience/presigned-upload-data"
	audiencePath = "/api/open/v1/audience"
)

// Auth headers of every Open API call; never sent to the storage URLs.
const (
	headerAccessKey = "access-key"
	headerTimestamp = "timestamp"
	headerToken     = "token"
)

// codeOK is the envelope's success code.
const codeOK = 200

// platformName names Mintegral in errors.
const platformName = "Mintegral"

// Token computes md5_hex(api_key + md5_hex(timestamp)).
func Token(apiKey, timestamp string) string {
	inner := md5.Sum([]byte(timestamp))
	outer := md5.Sum([]byte(apiKey + hex.EncodeToString(inner[:])))
	return hex.EncodeToString(outer[:])
}

// Spellings of the answers' fields. Keys are compared with case, "_" and
// "-" ignored (transfer.FoldKey), so "data_path" also matches dataPath
// and DataPath; these lists add the other words for the same field.
var (
	spellCode         = []string{"code", "ret_code", "err_code", "error_code"}
	spellMsg          = []string{"msg", "message", "errmsg", "err_msg", "error_msg", "error"}
	spellData         = []string{"data", "result"}
	spellAreaType     = []string{"area_type", "area"}
	spellFileName     = []string{"file_name"}
	spellFileMD5      = []string{"file_md5", "md5"}
	spellTTL          = []string{"ttl", "expires_in", "expire_in"}
	spellS3           = []string{"s3", "aws"}
	spellOSS          = []string{"oss", "aliyun_oss", "aliyun"}
	spellMethod       = []string{"method", "http_method"}
	spellURL          = []string{"url", "upload_url", "presigned_url", "signed_url"}
	spellDataPath     = []string{"data_path", "path", "s3_path", "oss_path"}
	spellAccessID     = []string{"accessid", "access_id", "access_key_id", "oss_access_key_id"}
	spellHost         = []string{"host", "url", "upload_url"}
	spellExpire       = []string{"expire", "expires", "expiration", "expire_time"}
	spellSignature    = []string{"signature"}
	spellPolicy       = []string{"policy"}
	spellDir          = []string{"dir", "key", "object_key"}
	spellTaID         = []string{"ta_id", "id", "audience_id"}
	spellTaName       = []string{"ta_name", "name", "audience_name"}
	spellTaType       = []string{"ta_type", "type", "audience_type"}
	spellPlatform     = []string{"platform"}
	spellDeviceType   = []string{"device_type", "device_types"}
	spellCTime        = []string{"ctime", "create_time", "created_at", "created"}
	spellUTime        = []string{"utime", "update_time", "updated_at", "updated"}
	spellPage         = []string{"page", "page_no", "current_page"}
	spellLimit        = []string{"limit", "page_size", "size"}
	spellCurrentTotal = []string{"current_total"}
	spellTotal        = []string{"total", "total_count"}
	spellList         = []string{"list", "items", "records", "rows"}
)

// envelope is an Open API answer's wrapper.
type envelope struct {
	Code int
	Msg  string
	Data transfer.Answer // nil when the answer has no data object
}

// readEnvelope reads the wrapper of an answer; ok is false when the body
// is not a JSON object with a code.
func readEnvelope(body []byte) (env envelope, isObject, ok bool) {
	a := transfer.ParseAnswer(body)
	if a == nil {
		return env, false, false
	}
	code, ok := a.Int(spellCode)
	if !ok {
		return env, true, false
	}
	env.Code, env.Msg = int(code), a.Str(spellMsg)
	env.Data, _ = a.Object(spellData)
	return env, true, true
}

// rateLimited recognises a failure that is Mintegral's rate limit: Mintegral
// publishes none, so the family's is taken (see the table above).
func rateLimited(status int, body []byte) bool {
	env, _, ok := readEnvelope(body)
	if !ok || env.Code == codeOK {
		return false
	}
	msg := strings.ToLower(env.Msg)
	return env.Code == http.StatusTooManyRequests || strings.Contains(msg, "rate limit") || strings.Contains(msg, "too many requests")
}

var missing = transfer.Missing

// presignAnswer is the data of presigned-upload-data for area.
type presignAnswer struct {
	area int
	info UploadInfo
}

func (p *presignAnswer) ReadAnswer(d transfer.Answer) string {
	if d == nil {
		return "data"
	}
	u := &p.info
	if n, ok := d.Int(spellAreaType); ok {
		u.AreaType = int(n)
	}
	u.FileName, u.FileMD5 = d.Str(spellFileName), d.Str(spellFileMD5)
	if n, ok := d.Int(spellTTL); ok {
		u.TTL = int(n)
	}
	if s3, ok := d.Object(spellS3); ok {
		u.S3 = &S3Info{Method: s3.Str(spellMethod), URL: s3.Str(spellURL), DataPath: s3.Str(spellDataPath)}
	}
	if oss, ok := d.Object(spellOSS); ok {
		o := &OSSInfo{Method: oss.Str(spellMethod), AccessID: oss.Str(spellAccessID), Host: oss.Str(spellHost), Signature: oss.Str(spellSignature),
			Policy: oss.Str(spellPolicy), Dir: oss.Str(spellDir), DataPath: oss.Str(spellDataPath)}
		o.Expire, _ = oss.Int(spellExpire)
		u.OSS = o
	}
	if p.area == AreaMainlandChina {
		u.S3 = nil // the area asked for decides which storage is used
		if u.OSS == nil {
			return "data.oss"
		}
		o := u.OSS
		return missing(map[string]bool{"data.oss.host": o.Host == "", "data.oss.data_path": o.DataPath == "", "data.oss.dir": o.Dir == "",
			"data.oss.accessid": o.AccessID == "", "data.oss.policy": o.Policy == "", "data.oss.signature": o.Signature == ""})
	}
	u.OSS = nil
	if u.S3 == nil {
		return "data.s3"
	}
	return missing(map[string]bool{"data.s3.url": u.S3.URL == "", "data.s3.data_path": u.S3.DataPath == ""})
}

// createAnswer is the data of POST /api/open/v1/audience.
type createAnswer struct{ ID int64 }

func (c *createAnswer) ReadAnswer(d transfer.Answer) string {
	if id, ok := d.Int(spellTaID); ok && id > 0 {
		c.ID = id
		return ""
	}
	return "data.ta_id"
}

// listAnswer is the data of GET /api/open/v1/audience.
type listAnswer struct {
	Page, Limit, CurrentTotal, Total int
	List                             []Audience
}

func (l *listAnswer) ReadAnswer(d transfer.Answer) string {
	if d == nil {
		return "data"
	}
	num := func(names []string) int {
		n, _ := d.Int(names)
		return int(n)
	}
	l.Page, l.Limit, l.CurrentTotal, l.Total = num(spellPage), num(spellLimit), num(spellCurrentTotal), num(spellTotal)
	items, ok := d.List(spellList)
	if !ok {
		// An empty page may come as [], null, or without the list when
		// its total says so.
		switch {
		case d.Has(spellList): // there, but not a list of objects
			return "data.list"
		case present(d, spellList), d.Has(spellTotal) && l.Total == 0:
			return ""
		}
		return "data.list"
	}
	l.List = make([]Audience, len(items))
	for i, it := range items {
		if m := readAudience(it, "data.list["+strconv.Itoa(i)+"].", &l.List[i]); m != "" {
			return m
		}
	}
	return ""
}

// present reports whether any of names is in a, even as null.
func present(a transfer.Answer, names []string) bool {
	for _, n := range names {
		if _, ok := a[transfer.FoldKey(n)]; ok {
			return true
		}
	}
	return false
}

// readAudience reads one item of the List API into out, or names what it
// lacks, each name after at.
func readAudience(it transfer.Answer, at string, out *Audience) string {
	id, okID := it.Int(spellTaID)
	platform, okPlatform := it.Int(spellPlatform)
	area, okArea := it.Int(spellAreaType)
	ctime, okC := it.Int(spellCTime)
	utime, okU := it.Int(spellUTime)
	types, okTypes := deviceTypesOf(it)
	out.Name = it.Str(spellTaName)
	if m := missing(map[string]bool{at + "ta_id": !okID || id <= 0, at + "ta_name": out.Name == "", at + "platform": !okPlatform,
		at + "area_type": !okArea, at + "ctime": !okC, at + "utime": !okU, at + "device_type": !okTypes}); m != "" {
		return m
	}
	typ, _ := it.Int(spellTaType)
	*out = Audience{
		ID:          id,
		Name:        out.Name,
		Platform:    PlatformName(int(platform)),
		AreaType:    int(area),
		Type:        int(typ),
		DeviceTypes: SortDeviceTypes(types),
		Created:     unixUTC(ctime),
		Updated:     unixUTC(utime),
	}
	return ""
}

// deviceTypesOf reads an audience's device types: published as a string
// of numbers ("2,8"); a number or a list of numbers or names is taken too.
// Numbers become names.
func deviceTypesOf(it transfer.Answer) ([]string, bool) {
	raw, ok := it.Raw(spellDeviceType)
	if !ok {
		return nil, false
	}
	var parts []string
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		for _, v := range list {
			parts = append(parts, transfer.RawText(v))
		}
	} else {
		s := transfer.RawText(raw)
		if s == "" && string(raw) != `""` {
			return nil, false // an object or a bool
		}
		parts = strings.Split(s, ",")
	}
	var types []string
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if n, err := strconv.Atoi(part); err == nil {
			types = append(types, DeviceTypeName(n))
		} else {
			types = append(types, part)
		}
	}
	return types, true
}

func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// wireFile is one entry of the data_path list Create and Update send.
type wireFile struct {
	DeviceType int    `json:"device_type"`
	DataPath   string `json:"data_path"`
}

// createRequest is POST /api/open/v1/audience.
type createRequest struct {
	Name     string     `json:"ta_name"`
	AreaType int        `json:"area_type"`
	Platform int        `json:"platform"`
	DataPath []wireFile `json:"data_path"`
}

// updateRequest is PUT /api/open/v1/audience.
type updateRequest struct {
	ID       int64      `json:"ta_id"`
	DataPath []wireFile `json:"data_path"`
}

// deleteRequest is DELETE /api/open/v1/audience.
type deleteRequest struct {
	IDs []int64 `json:"ta_id"`
}

// Query parameters of the presign and List calls.
const (
	paramAreaType = "area_type"
	paramFileName = "file_name"
	paramFileMD5  = "file_md5"
	paramTaIDs    = "ta_ids"
	paramTaName   = "ta_name"
	paramPlatform = "platform"
	paramLimit    = "limit"
	paramPage     = "page"
)
