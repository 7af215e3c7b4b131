package dsse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseDSSEEnvelopeRefuses(t *testing.T) {
	sig := `"sig": "MEUCIQDx"`
	many := strings.Repeat(`{`+sig+`},`, MaxSignatures)
	for _, tc := range []struct {
		name  string
		raw   string
		want  error
		field string
	}{
		{"not JSON", `payload: x`, ErrMalformed, ""},
		{"an array", `[]`, ErrMalformed, ""},
		{"unknown field", `{"payloadType": "t", "payload": "", "signatures": [{` + sig + `}], "cert": "x"}`, ErrMalformed, ""},
		{"signature extension", `{"payloadType": "t", "payload": "", "signatures": [{` + sig + `, "extension": {}}]}`, ErrMalformed, ""},
		{"two envelopes", `{"payloadType": "t", "signatures": [{` + sig + `}]} {}`, ErrMalformed, ""},
		{"no payloadType", `{"payload": "aGk=", "signatures": [{` + sig + `}]}`, ErrMalformed, "payloadType"},
		{"empty payloadType", `{"payloadType": "", "payload": "aGk=", "signatures": [{` + sig + `}]}`, ErrMalformed, "payloadType"},
		{"payloadType not a string", `{"payloadType": 7, "payload": "aGk=", "signatures": [{` + sig + `}]}`, ErrMalformed, ""},
		{"payload not base64", `{"payloadType": "t", "payload": "aGk*", "signatures": [{` + sig + `}]}`, ErrMalformed, "payload"},
		{"payload unpadded", `{"payloadType": "t", "payload": "aGk", "signatures": [{` + sig + `}]}`, ErrMalformed, "payload"},
		{"sig not base64", `{"payloadType": "t", "payload": "aGk=", "signatures": [{"sig": "MEUC%%"}]}`, ErrMalformed, "signatures[0].sig"},
		{"sig empty", `{"payloadType": "t", "payload": "aGk=", "signatures": [{` + sig + `}, {"keyid": "k", "sig": ""}]}`, ErrMalformed, "signatures[1].sig"},
		{"no sig", `{"payloadType": "t", "payload": "aGk=", "signatures": [{"keyid": "k"}]}`, ErrMalformed, "signatures[0]"},
		{"no signatures", `{"payloadType": "t", "payload": "aGk="}`, ErrNoSignature, "signatures"},
		{"empty signatures", `{"payloadType": "t", "payload": "aGk=", "signatures": []}`, ErrNoSignature, "signatures"},
		{"too many signatures", `{"payloadType": "t", "payload": "aGk=", "signatures": [` + many + `{` + sig + `}]}`, ErrTooLarge, "signatures"},
		{"oversized", `{"payloadType": "t", "payload": "` + strings.Repeat("A", MaxEnvelopeBytes) + `", "signatures": [{` + sig + `}]}`, ErrTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(tc.raw))
			var ee *EnvelopeError
			if !errors.Is(err, tc.want) || !errors.As(err, &ee) || ee.Field != tc.field {
				t.Fatalf("err = %v, want %v at %q", err, tc.want, tc.field)
			}
		})
	}
}

func TestParseDSSEEnvelopeAccepts(t *testing.T) {
	for name, raw := range map[string]string{
		"no payload (empty)":     `{"payloadType": "t", "signatures": [{"sig": "MEUCIQDx"}]}`,
		"no keyid":               `{"payloadType": "t", "payload": "aGk=", "signatures": [{"sig": "MEUCIQDx"}]}`,
		"URL-safe base64":        `{"payloadType": "t", "payload": "-_8=", "signatures": [{"keyid": "k", "sig": "_-_-"}]}`,
		"MaxSignatures":          `{"payloadType": "t", "signatures": [` + strings.TrimSuffix(strings.Repeat(`{"sig": "AA=="},`, MaxSignatures), ",") + `]}`,
		"trailing white space":   "{\"payloadType\": \"t\", \"signatures\": [{\"sig\": \"AA==\"}]}\n\n",
		"null payload and keyid": `{"payloadType": "t", "payload": null, "signatures": [{"keyid": null, "sig": "AA=="}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseEnvelope([]byte(raw)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FuzzParseDSSEEnvelope: no input panics ParseEnvelope or Verify, every
// failure matches the sentinels a caller branches on, and what parses
// survives a round trip through JSON unchanged.
func FuzzParseDSSEEnvelope(f *testing.F) {
	f.Add([]byte(specEnvelope))
	f.Add([]byte(`{"payloadType": "t", "payload": "-_8=", "signatures": [{"keyid": "k", "sig": "_-_-"}]}`))
	f.Add([]byte(`{"payloadType": "t", "signatures": [{"sig": "MEUCIQDx"}, {"sig": ""}]}`))
	f.Add([]byte(`{"payloadType": "t", "payload": "aGk=", "signatures": [{"sig": "MAYCAQUCAQc="}], "x": 1}`))
	f.Add([]byte(`{"payloadType":"t","payload":"aGk=","signatures":null}`))
	key := specKey(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, err := ParseEnvelope(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNoSignature) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			return
		}
		again, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		env2, err := ParseEnvelope(again)
		if err != nil || fmt.Sprint(env2) != fmt.Sprint(env) {
			t.Fatalf("round trip: %v\n%s\n%s", err, raw, again)
		}
		r, err := Verify(env, []Key{key}, Options{})
		switch {
		case err == nil:
			if !bytes.Equal(r.Payload, []byte(specPayload)) {
				t.Fatalf("verified a payload the spec key never signed: %q", r.Payload)
			}
		case !errors.Is(err, ErrThreshold):
			t.Fatalf("Verify of a parsed envelope: %v", err)
		}
	})
}
