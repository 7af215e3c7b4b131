package sigstoreroot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/wasmgate/wasmgate/internal/boundedio"
)

// fetcher is go-tuf's Fetcher for one TUF update: the interface takes no
// context, so the one for this update is held here, as http.Request
// holds one, and dropped with the fetcher.
type fetcher struct {
	ctx     context.Context
	client  *http.Client
	offline bool
}

// DownloadFile reads at most maxLength bytes of urlPath, as go-tuf's
// default fetcher does, and fails with go-tuf's error types so that a
// refusal (an oversized body) stays one.
func (f *fetcher) DownloadFile(urlPath string, maxLength int64, _ time.Duration) ([]byte, error) {
	if f.offline {
		return nil, fmt.Errorf("%w: %s", ErrOffline, urlPath)
	}
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, urlPath, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "wasmgate")
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: res.StatusCode, URL: urlPath}
	}
	if n, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64); err == nil && n > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s: %d bytes, at most %d expected", urlPath, n, maxLength)}
	}
	data, err := boundedio.ReadAll(res.Body, maxLength)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s: %v", urlPath, err)}
	}
	return data, err
}
