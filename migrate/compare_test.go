package migrate

import (
	"slices"
	"strings"
	"testing"
)

// envelope is a receives answer in the contract's shape, with two chats;
// edit changes its text.
func envelope(edit ...string) string {
	doc := `{"code":200,"message":"成功","data":{"isOnline":true,"chats":[` +
		`{"userId":"u1","userIcon":"http://x/i.png?a=&b","chatId":"c1","nickName":"阿洋","message":"hi","userGradeChatCount":3},` +
		`{"userId":"u2","userIcon":"http://x/d.png","chatId":"c2","nickName":null,"message":"","userGradeChatCount":1}` +
		`]},"page":null,"foot":{"operationTime":"2016-01-08 14:41:38","servicePhone":"400800400","host":"DESKTOP-CG59P88"}}`
	for i := 0; i+1 < len(edit); i += 2 {
		if !strings.Contains(doc, edit[i]) {
			panic("envelope: no " + edit[i])
		}
		doc = strings.Replace(doc, edit[i], edit[i+1], 1)
	}
	return doc
}

func TestCompareJSON(t *testing.T) {
	tests := []struct {
		name string
		x, y string
		want []string // the paths that differ
	}{
		{"identical", envelope(), envelope(), nil},
		{"time and host are not compared", envelope(), envelope("2016-01-08 14:41:38", "2026-11-29 20:00:00", "DESKTOP-CG59P88", "op-7"), nil},
		{"whitespace between tokens is not compared", envelope(), envelope(`"code":200,`, "\"code\" : 200 ,\n"), nil},
		{"the service phone is", envelope(), envelope("400800400", "400800401"), []string{"foot.servicePhone"}},
		{"a changed count", envelope(), envelope(`"userGradeChatCount":3`, `"userGradeChatCount":4`), []string{"data.chats[0].userGradeChatCount"}},
		{"a number written otherwise", envelope(), envelope(`"userGradeChatCount":3`, `"userGradeChatCount":3.0`), []string{"data.chats[0].userGradeChatCount"}},
		{"a number in exponent form", envelope(), envelope(`"userGradeChatCount":1`, `"userGradeChatCount":1e0`), []string{"data.chats[1].userGradeChatCount"}},
		{"empty string for null", envelope(), envelope(`"nickName":null`, `"nickName":""`), []string{"data.chats[1].nickName"}},
		{"a missing member for null", envelope(), envelope(`"nickName":null,`, ``), []string{"data.chats[1].nickName"}},
		{"an escaped &", envelope(), envelope(`?a=&b`, `?a=\u0026b`), []string{"data.chats[0].userIcon"}},
		{"an escaped non-ASCII letter", envelope(), envelope(`阿洋`, `\u963f洋`), []string{"data.chats[0].nickName"}},
		{"an escaped slash", envelope(), envelope(`http://x/d.png`, `http:\/\/x\/d.png`), []string{"data.chats[1].userIcon"}},
		{"a name written otherwise", envelope(), envelope(`"chatId":"c1"`, `"chat\u0049d":"c1"`), []string{"data.chats[0].chatId"}},
		{"members reordered", envelope(), envelope(`"code":200,"message":"成功",`, `"message":"成功","code":200,`), []string{"$"}},
		{"a member added", envelope(), envelope(`"page":null,`, `"page":null,"extra":1,`), []string{"extra"}},
		{"a chat less", envelope(), envelope(`,{"userId":"u2","userIcon":"http://x/d.png","chatId":"c2","nickName":null,"message":"","userGradeChatCount":1}`, ``), []string{"data.chats"}},
		{"[] for null", envelope(`"page":null`, `"page":[]`), envelope(), []string{"page"}},
		{"a boolean", envelope(), envelope(`"isOnline":true`, `"isOnline":false`), []string{"data.isOnline"}},
		{"an odd member name", `{"a b":1}`, `{"a b":2}`, []string{`["a b"]`}},
		{"not the same kind at the root", `[]`, `{}`, []string{"$"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs, err := CompareJSON([]byte(tt.x), []byte(tt.y), "facade", "upstream")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, d.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("paths %q, want %q (%v)", got, tt.want, diffs)
			}
		})
	}
}

// TestCompareJSONReorderedChats swaps the two chats: each differing field
// of each place is named.
func TestCompareJSONReorderedChats(t *testing.T) {
	x := envelope()
	c1 := `{"userId":"u1","userIcon":"http://x/i.png?a=&b","chatId":"c1","nickName":"阿洋","message":"hi","userGradeChatCount":3}`
	c2 := `{"userId":"u2","userIcon":"http://x/d.png","chatId":"c2","nickName":null,"message":"","userGradeChatCount":1}`
	y := envelope(c1+","+c2, c2+","+c1)
	diffs, err := CompareJSON([]byte(x), []byte(y), "facade", "upstream")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, d.String())
	}
	for _, want := range []string{
		"data.chats[0].chatId (strings differ)",
		"data.chats[1].chatId (strings differ)",
		"data.chats[0].nickName (facade string, upstream null)",
		"data.chats[1].nickName (facade null, upstream string)",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
}

func TestCompareJSONRefusesWhatIsNotJSON(t *testing.T) {
	for _, doc := range []string{``, `{`, `{"a":1}{"a":1}`, `<html>`, `{"a":1,}`} {
		if _, err := CompareJSON([]byte(envelope()), []byte(doc), "facade", "upstream"); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

// FuzzCompareJSON: a document equals itself, and comparing never panics.
func FuzzCompareJSON(f *testing.F) {
	f.Add([]byte(envelope()), []byte(envelope(`"nickName":null`, `"nickName":""`)))
	f.Add([]byte(`[1,2.0,"\u0026",{"a":[]}]`), []byte(`[1,2,"&",{"a":{}}]`))
	f.Fuzz(func(t *testing.T, x, y []byte) {
		if diffs, err := CompareJSON(x, x, "a", "b"); err == nil && len(diffs) != 0 {
			t.Fatalf("%q differs from itself: %v", x, diffs)
		}
		_, _ = CompareJSON(x, y, "a", "b")
	})
}
