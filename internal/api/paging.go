package api

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// Paging limits of Twilio's list resources.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
	maxPage         = 1_000_000
)

// listRequest is a parsed list query: the filters the resource knows, in the
// order they are written back into page URIs, and the paging parameters.
type listRequest struct {
	filters  [][2]string // name, value; only those given
	pageSize int
	page     int
	token    string // the PageToken as received
	after    *store.Cursor
	before   *store.Cursor
	desc     bool // the list is newest first (calls, notifications)
}

// pageTokenDir is the first two characters of a page token: "PA" pages
// forwards from a row, "PB" backwards, as Twilio's tokens begin.
const (
	tokenAfter  = "PA"
	tokenBefore = "PB"
)

// encodePageToken makes the PageToken of the page next to row c: dir, the
// row's SID, '_', and its creation time in microseconds. Tokens carry the
// whole key, so they stay valid if that row is deleted. "After" and "before"
// follow the list's order, which is newest first for calls and
// notifications: there a PA token pages towards older rows.
func encodePageToken(dir string, c store.Cursor) string {
	return dir + c.SID + "_" + strconv.FormatInt(c.DateCreated.UnixMicro(), 10)
}

// parsePageToken reads a token made by encodePageToken for a list of
// resources whose SIDs start with sidPrefix. ok is false for anything else.
func parsePageToken(tok, sidPrefix string) (dir string, c store.Cursor, ok bool) {
	if len(tok) < 2+sid.Len+2 || len(tok) > 2+sid.Len+1+19 {
		return "", store.Cursor{}, false
	}
	dir = tok[:2]
	if dir != tokenAfter && dir != tokenBefore {
		return "", store.Cursor{}, false
	}
	s := tok[2 : 2+sid.Len]
	if !sid.Valid(sidPrefix, s) || tok[2+sid.Len] != '_' {
		return "", store.Cursor{}, false
	}
	digits := tok[2+sid.Len+1:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", store.Cursor{}, false
		}
	}
	us, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return "", store.Cursor{}, false
	}
	return dir, store.Cursor{DateCreated: time.UnixMicro(us).UTC(), SID: s}, true
}

// parseList reads Page, PageSize, PageToken and the named filters from the
// query string. sidPrefix is the SID prefix of the listed resource.
func parseList(r *request, sidPrefix string, filterNames ...string) (listRequest, error) {
	q := r.URL.Query()
	lr := listRequest{pageSize: defaultPageSize}
	for _, name := range filterNames {
		if vs, ok := q[name]; ok && len(vs) > 0 && vs[0] != "" {
			lr.filters = append(lr.filters, [2]string{name, vs[0]})
		}
	}
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return lr, badRequest(CodePageSizeTooLarge, "PageSize must be an integer from 1 to %d, not %q", maxPageSize, v)
		}
		lr.pageSize = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxPage {
			return lr, badRequest(CodeInvalidPageToken, "Page must be a non-negative integer, not %q", v)
		}
		lr.page = n
	}
	if v := q.Get("PageToken"); v != "" {
		dir, c, ok := parsePageToken(v, sidPrefix)
		if !ok {
			return lr, badRequest(CodeInvalidPageToken, "Invalid PageToken")
		}
		lr.token = v
		if dir == tokenAfter {
			lr.after = &c
		} else {
			lr.before = &c
		}
	}
	return lr, nil
}

// storePage is the store.Page the request asks for.
func (lr listRequest) storePage() store.Page {
	p := store.Page{Size: lr.pageSize, After: lr.after, Before: lr.before, Desc: lr.desc}
	if lr.after == nil && lr.before == nil {
		p.Offset = lr.page * lr.pageSize
	}
	return p
}

// pageURI writes a list URI: the path, the filters, PageSize, Page and, when
// not empty, PageToken, in that order (the order Twilio's URIs use).
func (lr listRequest) pageURI(path string, page int, token string) string {
	var b strings.Builder
	b.WriteString(path)
	sep := byte('?')
	add := func(k, v string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	for _, f := range lr.filters {
		add(f[0], f[1])
	}
	add("PageSize", strconv.Itoa(lr.pageSize))
	add("Page", strconv.Itoa(page))
	if token != "" {
		add("PageToken", token)
	}
	return b.String()
}

// envelope builds Twilio's list response: key holds items; first_page_uri,
// next_page_uri (null on the last page), previous_page_uri (null on the
// first), page, page_size, start, end and uri describe the page. first and
// last are the cursors of the first and last item; more is what the store
// reported (more rows in the direction of travel).
func (lr listRequest) envelope(path, key string, items any, n int, first, last store.Cursor, more bool) map[string]any {
	var next, prev any // nil marshals as null
	backwards := lr.before != nil
	if n > 0 {
		if (!backwards && more) || backwards {
			next = lr.pageURI(path, lr.page+1, encodePageToken(tokenAfter, last))
		}
		if (!backwards && lr.page > 0) || (backwards && more) {
			p := lr.page - 1
			if p < 0 {
				p = 0
			}
			prev = lr.pageURI(path, p, encodePageToken(tokenBefore, first))
		}
	}
	start := lr.page * lr.pageSize
	end := start
	if n > 0 {
		end = start + n - 1
	}
	return map[string]any{
		key:                 items,
		"end":               end,
		"first_page_uri":    lr.pageURI(path, 0, ""),
		"next_page_uri":     next,
		"page":              lr.page,
		"page_size":         lr.pageSize,
		"previous_page_uri": prev,
		"start":             start,
		"uri":               lr.pageURI(path, lr.page, lr.token),
	}
}
