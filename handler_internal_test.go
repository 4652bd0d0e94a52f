package stripegateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandlerNilBody(t *testing.T) {
	t.Parallel()
	g, err := New(validConfig())
	require.NoError(t, err)
	called := false
	h := g.WebhookHandler(Handlers{Default: func(context.Context, *Outcome) error { called = true; return nil }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, &http.Request{Method: http.MethodPost, Header: http.Header{}})
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.False(t, called)
	assert.False(t, strings.Contains(rec.Body.String(), "stripegateway"))
}
