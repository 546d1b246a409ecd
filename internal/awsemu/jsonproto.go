package awsemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The AWS JSON 1.1 protocol, shared by every JSON service here
// (CloudTrail, Organizations, KMS): responses and errors as the SDKs read
// them, request decoding with the errors AWS answers, required members,
// opaque pagination tokens and epoch-seconds timestamps.

// writeJSON writes a JSON 1.1 response.
func writeJSON(w http.ResponseWriter, reqID string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("awsemu: marshal %T: %v", v, err))
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// writeJSONError writes an AWS JSON 1.0/1.1 error. The SDKs read the code
// from the X-Amzn-ErrorType header first and from "__type" otherwise, and
// the message from "message" or "Message"; both are set.
func writeJSONError(w http.ResponseWriter, reqID string, e *apiError) {
	noteCode(w, e.Code)
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-RequestId", reqID)
	h.Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.Write(body)
}

// decodeJSON reads a JSON 1.1 request body into v. An empty body is an
// empty object; anything that is not a JSON object of the right member
// types is a SerializationException, as AWS JSON services answer.
func decodeJSON(body []byte, v any) *apiError {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return errorf(http.StatusBadRequest, "SerializationException", "Start of structure or map found where not expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errorf(http.StatusBadRequest, "SerializationException", "Unexpected value type for member %s", typeErr.Field)
		}
		return errorf(http.StatusBadRequest, "SerializationException", "Malformed request body: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "SerializationException", "Unexpected content after the request body")
	}
	return nil
}

// validationError is the ValidationException of a member that breaks
// its constraint in the service model.
func validationError(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: "+format, args...)
}

// required is the ValidationException of a required member left out.
func required(member string) *apiError {
	return validationError("Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// Pagination tokens are opaque to clients; here they carry an offset.
func encodeToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeToken(tok *string, n int) (int, *apiError) {
	if tok == nil || *tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	s, ok := strings.CutPrefix(string(raw), "offset:")
	off, convErr := strconv.Atoi(s)
	if err != nil || !ok || convErr != nil || off < 0 || off > n {
		return 0, errorf(http.StatusBadRequest, "InvalidTokenException", "The NextToken %q is not valid.", *tok)
	}
	return off, nil
}

// epoch is a JSON 1.1 timestamp: seconds since the Unix epoch, with
// milliseconds, as a JSON number.
func epoch(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	f := float64(t.UnixMilli()) / 1000
	return &f
}
