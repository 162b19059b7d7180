package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"

	"golang.org/x/net/publicsuffix"
)

// NewJar returns an empty cookie jar for one call, with the public suffix
// list so an app cannot set cookies for a whole registry domain. Keep it for
// the life of the call and put it in every Request of that call.
func NewJar() http.CookieJar {
	j, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
	return j
}

// Validator checks a usable answer before it is accepted; the interpreter
// parses TwiML in it. An error makes FetchWithFallback try the fallback URL.
// To choose the recorded error code (12100 by default), return an *Error with
// that Code.
type Validator func(*Response) error

// FetchWithFallback fetches the primary request and, when that fails or the
// answer is rejected by validate, the fallback request, as Twilio does with a
// number's voice_url and voice_fallback_url
// (https://www.twilio.com/docs/usage/security/availability-reliability). The
// fallback request carries the primary's parameters (when its own are nil)
// plus ErrorCode and ErrorUrl, which say what failed where.
//
// It returns the first accepted answer, or nil when there is none (then the
// caller hears ApplicationErrorMessage and the call ends), and every failure
// met, each to be recorded as a notification. A fallback with an empty URL is
// not tried. When ctx ends (the call hung up), the fallback is not tried.
func (c *Client) FetchWithFallback(ctx context.Context, primary, fallback Request, validate Validator) (*Response, []*Error) {
	var errs []*Error
	resp, e := c.fetchValid(ctx, primary, validate)
	if e == nil {
		return resp, nil
	}
	errs = append(errs, e)
	if fallback.URL == "" || ctx.Err() != nil {
		return nil, errs
	}
	params := fallback.Params
	if params == nil {
		params = primary.Params
	}
	fp := make(url.Values, len(params)+2)
	for k, v := range params {
		fp[k] = v
	}
	fp.Set("ErrorCode", strconv.Itoa(e.Code))
	fp.Set("ErrorUrl", e.URL)
	fallback.Params = fp
	if fallback.Jar == nil {
		fallback.Jar = primary.Jar
	}
	if fallback.CallSID == "" {
		fallback.CallSID = primary.CallSID
	}
	if fallback.AuthToken == "" {
		fallback.AuthToken = primary.AuthToken
	}
	resp, e = c.fetchValid(ctx, fallback, validate)
	if e != nil {
		return nil, append(errs, e)
	}
	return resp, errs
}

func (c *Client) fetchValid(ctx context.Context, req Request, validate Validator) (*Response, *Error) {
	resp, err := c.Fetch(ctx, req)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Code: CodeRetrievalFailure, CallSID: req.CallSID, URL: req.URL, Method: req.Method, Params: req.Params, Err: err}
		}
		return nil, e
	}
	if validate == nil {
		return resp, nil
	}
	verr := validate(resp)
	if verr == nil {
		return resp, nil
	}
	e := &Error{
		Code:           CodeDocumentParse,
		CallSID:        req.CallSID,
		URL:            resp.URL,
		Method:         resp.Method,
		Params:         req.Params,
		Status:         resp.Status,
		ResponseHeader: resp.Header,
		ResponseBody:   head(resp.Body, errorBodyLen),
		Err:            fmt.Errorf("%w: %w", ErrInvalidDocument, verr),
	}
	var coded *Error
	if errors.As(verr, &coded) && coded.Code != 0 {
		e.Code = coded.Code
	}
	return nil, e
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		b = b[:n]
	}
	return append([]byte(nil), b...)
}
