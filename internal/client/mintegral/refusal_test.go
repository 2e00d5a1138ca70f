package mintegral

import (
	"strings"
	"testing"
)

// A refused device_type or area_type says what was sent and why.
func TestRefusalHints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    *APIError
		area   int
		files  []wireFile
		want   []string
		idfv   bool
		absent string
	}{
		{
			name:  "IDFV",
			err:   &APIError{Code: 400, Message: "data_path[0].device_type 10 is not a valid device type"},
			area:  1,
			files: []wireFile{{10, "s3://b/a.txt"}, {2, "s3://b/b.txt"}, {10, "s3://b/c.txt"}},
			want:  []string{"device_type was sent as 10 for IDFV, 2 for IDFA, the numbers of", "IDFV 10 and IDFV_MD5 11", "says 12 and 13", "refuses 10/11"},
			idfv:  true,
		},
		{
			name:   "no IDFV",
			err:    &APIError{Code: 400, Message: "invalid device type"},
			area:   1,
			files:  []wireFile{{3, "s3://b/a.txt"}},
			want:   []string{"device_type was sent as 3 for GAID, the numbers of Mintegral's official device type table"},
			absent: "IDFV",
		},
		{
			name: "area 2",
			err:  &APIError{Code: 400, Message: "area_type must be 1"},
			area: 2,
			want: []string{"area_type 2 (mainland China, Aliyun OSS) was sent", "lists only area_type 1", "Use area_type 1 (the default)"},
		},
		{
			name:   "area 1 refused says nothing of area 2",
			err:    &APIError{Code: 400, Message: "area_type must be 2"},
			area:   1,
			absent: "mainland",
		},
		{
			name:   "a data_path of the other area is not an area refusal",
			err:    &APIError{Code: 400, Message: `data_path[0].data_path "oss://x" was uploaded for area_type 2, not 1`},
			area:   2,
			files:  []wireFile{{3, "oss://x"}},
			want:   []string{"upload the file again"},
			absent: "help center",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := withSent(tc.err, tc.area, tc.files).Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if tc.absent != "" && strings.Contains(msg, tc.absent) {
				t.Errorf("%q says %q", msg, tc.absent)
			}
			if tc.err.IDFVRefused() != tc.idfv {
				t.Errorf("IDFVRefused = %v, want %v", !tc.idfv, tc.idfv)
			}
		})
	}
}
