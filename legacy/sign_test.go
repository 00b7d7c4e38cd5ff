package legacy

import "testing"

func TestSign(t *testing.T) {
	const secret = "5e8dd316726b0335fcdb27a4d3c2a9b7"
	example := map[string]string{"apiVersion": "01", "client": "b2736195b38346639463ee889d6b8ff4", "token": "o0001403351be22c648efa24c20e842fd7351"}
	tests := []struct {
		name   string
		params map[string]string
		secret string
		want   string
	}{
		{"the contract's example", example, secret, "98a1e4ee75534faa59c7cffaa81d98db"},
		{"sign itself is left out", with(example, "sign", "whatever"), secret, "98a1e4ee75534faa59c7cffaa81d98db"},
		{"empty values are left out", with(example, "staffId", ""), secret, "98a1e4ee75534faa59c7cffaa81d98db"},
		{"sorted by name", map[string]string{"b": "2", "a": "1"}, "s", md5hex("a=1&b=2s")},
		{"byte order puts upper case first", map[string]string{"a": "1", "B": "2"}, "s", md5hex("B=2&a=1s")},
		{"values as sent, not encoded", map[string]string{"q": "a b&c=d"}, "s", md5hex("q=a b&c=ds")},
		{"UTF-8", map[string]string{"n": "阿洋"}, "s", md5hex("n=阿洋s")},
		{"no parameters", map[string]string{}, "s", md5hex("s")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sign(tt.params, tt.secret); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValidSign(t *testing.T) {
	p := map[string]string{"client": "c", "token": "t"}
	good := Sign(p, "secret")
	tests := []struct {
		sign string
		want bool
	}{
		{good, true},
		{upper(good), true},
		{good[:31], false},
		{good + "0", false},
		{"", false},
		{"98a1e4ee75534faa59c7cffaa81d98db", false},
	}
	for _, tt := range tests {
		if got := validSign(with(p, "sign", tt.sign), "secret"); got != tt.want {
			t.Errorf("validSign(%q) = %v, want %v", tt.sign, got, tt.want)
		}
	}
}
