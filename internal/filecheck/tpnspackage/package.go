// Package tpnspackage checks a Tencent Cloud TPNS account or token package
// against the platform's documented rules before it is uploaded: file name,
// extension and size; a zip holding exactly one .txt or .csv and no folders;
// UTF-8 text with one entry per row; a single csv column; accounts of 2–100
// characters and tokens of exactly 36. It reads files as streams with
// bounded memory, so it serves both the provider (at plan time) and the
// sandbox (server side). It knows nothing of Terraform or HTTP.
package tpnspackage

import (
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck"
)

// Type is what a package lists.
type Type string

// Package types. The upload endpoint is the same for both; only the entry
// rule differs.
const (
	Account Type = "account"
	Token   Type = "token"
)

// Platform limits (Tencent Cloud's TPNS documentation of the package
// upload).
const (
	MaxNameChars    = 100
	MaxFileSize     = 100 << 20 // "within 100 MB"
	MinAccountChars = 2
	MaxAccountChars = 100
	TokenChars      = 36
)

// Limits of this checker, not of the platform: they bound the work a crafted
// file can cause. No valid row comes near MaxLineBytes (100 characters of at
// most 4 bytes, quoted), and MaxUncompressedSize is ten times the upload limit.
const (
	MaxLineBytes        = 4096
	MaxUncompressedSize = 1 << 30
	maxListedEntries    = 10
)

// Rules, as named in errors. Tests match on them.
const (
	RuleFileName     = "the file name is 1-100 characters"
	RuleExtension    = "the file is a .zip, .txt or .csv"
	RuleFileSize     = "the file is at most 100 MB"
	RuleZipLayout    = "a zip holds exactly one .txt or .csv file and no folders"
	RuleZipFormat    = "a zip is a readable, unencrypted archive (stored or deflated)"
	RuleZipExpansion = "a zip entry expands to at most 1 GiB"
	RuleUTF8         = "the content is UTF-8"
	RuleOneEntry     = "one entry per row"
	RuleLineLength   = "a row is at most 4096 bytes"
	RuleCSVColumns   = "a csv has a single column"
	RuleAccountChars = "an account is 2-100 characters"
	RuleTokenChars   = "a device token is exactly 36 characters"
	RuleNotEmpty     = "a package holds at least one entry"
)

// Error is a broken package rule, located as precisely as possible: the
// file, the zip entry and the row.
type Error = filecheck.RuleError

// RuleOf returns the rule an error broke, or "" when err is not a rule
// violation (an I/O error, for instance).
func RuleOf(err error) string { return filecheck.RuleOf(err) }

// Result describes a valid package.
type Result struct {
	Format  string // "txt", "csv" or "zip"
	Entry   string // the zip's single entry, for a zip
	Entries int64  // number of accounts or tokens
}

// ParseType accepts "account" (also the empty string) and "token".
func ParseType(s string) (Type, error) {
	switch Type(s) {
	case "", Account:
		return Account, nil
	case Token:
		return Token, nil
	}
	return "", fmt.Errorf("package type %q is not one of %q, %q", s, Account, Token)
}

// format returns the package format named by a file name's extension.
func format(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".txt":
		return "txt"
	case ".csv":
		return "csv"
	case ".zip":
		return "zip"
	}
	return ""
}

// CheckName checks the name the package is uploaded under. file labels the
// error (the local file the name belongs to).
func CheckName(file, name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return &Error{File: file, Rule: RuleFileName, Problem: fmt.Sprintf("file name %q is not valid UTF-8", name)}
	case n < 1 || n > MaxNameChars:
		return &Error{File: file, Rule: RuleFileName, Problem: fmt.Sprintf("file name %q is %d characters long", name, n), Fix: "Choose a shorter name"}
	case strings.ContainsAny(name, `/\`):
		return &Error{File: file, Rule: RuleFileName, Problem: fmt.Sprintf("file name %q contains a path separator", name), Fix: "Give a bare file name, without folders"}
	case format(name) == "":
		return &Error{File: file, Rule: RuleExtension, Problem: fmt.Sprintf("file name %q does not end in .zip, .txt or .csv", name)}
	case strings.TrimSuffix(name, path.Ext(name)) == "":
		return &Error{File: file, Rule: RuleFileName, Problem: fmt.Sprintf("file name %q has nothing before its extension", name)}
	}
	return nil
}

// CheckFile validates the package at path, to be uploaded as name. The
// file is streamed; it is never read whole into memory.
func CheckFile(filePath, name string, t Type) (Result, error) {
	f, err := os.Open(filePath)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	if !st.Mode().IsRegular() {
		return Result{}, fmt.Errorf("%s is not a regular file", filePath)
	}
	return Check(f, st.Size(), filePath, name, t)
}

// Check validates a package of size bytes read from r. file labels errors;
// name is the name it is uploaded under, whose extension sets the format.
func Check(r io.ReaderAt, size int64, file, name string, t Type) (Result, error) {
	if t != Account && t != Token {
		return Result{}, fmt.Errorf("unknown package type %q", t)
	}
	if err := CheckName(file, name); err != nil {
		return Result{}, err
	}
	if size > MaxFileSize {
		return Result{}, &Error{File: file, Rule: RuleFileSize, Problem: fmt.Sprintf("the file is %d bytes, more than %d", size, int64(MaxFileSize)), Fix: "Split the package into several files"}
	}
	res := Result{Format: format(name)}
	if size == 0 {
		return res, &Error{File: file, Rule: RuleNotEmpty, Problem: "the file is empty"}
	}
	var err error
	switch res.Format {
	case "zip":
		res.Entry, res.Entries, err = checkZip(r, size, file, t)
	default:
		res.Entries, err = CheckRows(io.NewSectionReader(r, 0, size), file, "", res.Format == "csv", t)
	}
	return res, err
}
