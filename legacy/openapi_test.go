package legacy_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"opfacade/app/apptest"
	"opfacade/legacy"
)

// TestLegacyOpenAPI loads the served OpenAPI description, validates it, and
// checks real responses of the legacy path, success and errors, against it.
func TestLegacyOpenAPI(t *testing.T) {
	srv := apptest.NewServer(t, apptest.Config(t, apptest.NewSQLiteDB(t, apptest.FixtureScripts()...), apptest.LegacyExample))
	res, err := srv.Client().Get(srv.URL + "/op/v2/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(served, legacy.OpenAPI) {
		t.Fatal("the served description differs from legacy/openapi.json")
	}
	doc, err := openapi3.NewLoader().LoadFromData(served)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("legacy/openapi.json is not valid OpenAPI 3: %v", err)
	}
	path := doc.Paths.Find("/op/v2/receives")
	route := &routers.Route{Spec: doc, Path: "/op/v2/receives", PathItem: path, Method: http.MethodPost, Operation: path.Post}

	requests := map[string]url.Values{
		"success":         apptest.Signed(apptest.TokenLi),
		"no chats":        apptest.Signed(apptest.TokenZhao),
		"orphan user":     apptest.Signed(apptest.TokenAdmin, "staffId", apptest.StaffWang),
		"wrong sign":      apptest.Sign(url.Values{"client": {apptest.ClientID}, "token": {apptest.TokenLi}}, "wrong"),
		"expired token":   apptest.Signed(apptest.TokenExpired),
		"forbidden":       apptest.Signed(apptest.TokenLi, "staffId", apptest.StaffWang),
		"no such OP":      apptest.Signed(apptest.TokenAdmin, "staffId", "nobody"),
		"bad api version": apptest.Signed(apptest.TokenLi, "apiVersion", "02"),
	}
	for name, params := range requests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/op/v2/receives", strings.NewReader(params.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
				Status:                 res.StatusCode,
				Header:                 res.Header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
				Options:                &openapi3filter.Options{IncludeResponseStatus: true},
			}
			if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
				t.Fatalf("response does not match legacy/openapi.json: %v\n%s", err, body)
			}
		})
	}
}
