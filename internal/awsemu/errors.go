package awsemu

import (
	"encoding/xml"
	"fmt"
	"net/http"
)

// apiError is one AWS error, independent of the protocol that carries it.
// Each service writes it in its own wire shape (JSON __type, query
// ErrorResponse, EC2 Response/Errors, S3 Error), so the SDK's deserializers
// map Code to the same modeled exception types they map real AWS errors to.
type apiError struct {
	Status  int    // HTTP status
	Code    string // the AWS error code, e.g. TrailNotFoundException
	Message string
	// Sender is false for the rare server-side faults; query protocols
	// report it as <Type>Sender</Type> or <Type>Receiver</Type>.
	Receiver bool
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeQueryError writes the error document of the AWS query protocol
// (STS): ErrorResponse/Error/{Type,Code,Message} and RequestId.
func writeQueryError(w http.ResponseWriter, reqID string, e *apiError) {
	noteCode(w, e.Code)
	typ := "Sender"
	if e.Receiver {
		typ = "Receiver"
	}
	doc := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		NS      string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestId string
	}{NS: stsNamespace, RequestId: reqID}
	doc.Error.Type, doc.Error.Code, doc.Error.Message = typ, e.Code, e.Message
	writeXML(w, reqID, e.Status, doc)
}

// writeEC2Error writes EC2's own error document, which differs from the
// other query services: Response/Errors/Error and RequestID (capital D).
func writeEC2Error(w http.ResponseWriter, reqID string, e *apiError) {
	noteCode(w, e.Code)
	type ec2Err struct {
		Code    string
		Message string
	}
	doc := struct {
		XMLName   xml.Name `xml:"Response"`
		Errors    []ec2Err `xml:"Errors>Error"`
		RequestID string
	}{Errors: []ec2Err{{e.Code, e.Message}}, RequestID: reqID}
	writeXML(w, reqID, e.Status, doc)
}

// writeS3Error writes S3's REST-XML error. HEAD responses carry no body,
// which is why the SDK reports HeadBucket failures by status only
// (404 → types.NotFound).
func writeS3Error(w http.ResponseWriter, r *http.Request, reqID string, e *apiError, resource string) {
	noteCode(w, e.Code)
	w.Header().Set("x-amz-request-id", reqID)
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	doc := struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string `xml:",omitempty"`
		RequestId string
	}{Code: e.Code, Message: e.Message, Resource: resource, RequestId: reqID}
	writeXML(w, reqID, e.Status, doc)
}

func writeXML(w http.ResponseWriter, reqID string, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil { // only our own fixed types are marshalled
		panic(fmt.Sprintf("awsemu: marshal %T: %v", v, err))
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	if h.Get("x-amz-request-id") == "" {
		h.Set("X-Amzn-RequestId", reqID)
	}
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
