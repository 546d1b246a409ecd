package awsemu

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// snsNamespace is the XML namespace of SNS query responses (service model
// sns-2010-03-31).
const snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// SNS speaks the AWS query protocol, like STS.
var snsService = &service{
	operation: queryAction,
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeQueryError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveSNS,
	invalidKey: apiError{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusForbidden, Code: "ExpiredToken", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"},
}

type snsTopic struct {
	arn       string
	published []Message
}

// Message is one message published to a topic.
type Message struct {
	MessageID, Subject, Message string
}

// maxSNSMessage is Publish's message size limit (256 KiB).
const maxSNSMessage = 256 << 10

// maxPublished bounds the messages kept per topic; the oldest go first.
const maxPublished = 1000

var snsTopicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Published returns the messages published to a topic, oldest first.
func (e *Emulator) Published(topicARN string) []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.evState().topics[topicARN]
	if t == nil {
		return nil
	}
	return append([]Message(nil), t.published...)
}

func (e *Emulator) serveSNS(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	p := queryParams(r, body)
	var (
		result any
		err    *apiError
	)
	e.mu.Lock()
	switch c.op {
	case "CreateTopic":
		result, err = e.createTopic(c, p.Get("Name"))
	case "Publish":
		result, err = e.publish(c, p.Get("TopicArn"), p.Get("Subject"), p.Get("Message"), p.Has("Message"))
	default:
		err = errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version 2010-03-31", c.op)
	}
	e.mu.Unlock()
	if err != nil {
		writeQueryError(w, c.reqID, err)
		return
	}
	writeQueryResponse(w, c, snsNamespace, result)
}

func (e *Emulator) createTopic(c *call, name string) (any, *apiError) {
	base := strings.TrimSuffix(name, ".fifo")
	if !snsTopicName.MatchString(base) || len(name) > 256 {
		return nil, errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Topic Name")
	}
	arn := "arn:aws:sns:" + c.region + ":" + c.account() + ":" + name
	s := e.evState()
	if s.topics[arn] == nil { // CreateTopic is idempotent
		s.topics[arn] = &snsTopic{arn: arn}
	}
	return struct{ TopicArn string }{arn}, nil
}

func (e *Emulator) publish(c *call, topicARN, subject, message string, hasMessage bool) (any, *apiError) {
	if topicARN == "" {
		return nil, errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	if !hasMessage {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null")
	}
	if message == "" {
		return nil, errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Empty message")
	}
	if len(message) > maxSNSMessage {
		return nil, errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Message too long")
	}
	if len(subject) > 100 || !utf8.ValidString(subject) || strings.ContainsAny(subject, "\r\n") {
		return nil, errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Subject")
	}
	// A caller publishes to its own account's topics, in the region it
	// calls (topic policies granting others are not emulated).
	if !strings.HasPrefix(topicARN, "arn:aws:sns:"+c.region+":"+c.account()+":") {
		if strings.HasPrefix(topicARN, "arn:aws:sns:"+c.region+":") {
			return nil, errorf(http.StatusForbidden, "AuthorizationError", "User: %s is not authorized to perform: SNS:Publish on resource: %s", c.cred.arn, topicARN)
		}
		return nil, errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: TopicArn")
	}
	id, err := e.appendMessage(topicARN, subject, message)
	if err != nil {
		return nil, err
	}
	return struct{ MessageId string }{id}, nil
}

// appendMessage keeps a message on an existing topic. Called with e.mu
// held.
func (e *Emulator) appendMessage(topicARN, subject, message string) (string, *apiError) {
	t := e.evState().topics[topicARN]
	if t == nil {
		return "", errorf(http.StatusNotFound, "NotFound", "Topic does not exist")
	}
	id := newRequestID()
	t.published = append(t.published, Message{MessageID: id, Subject: subject, Message: message})
	if len(t.published) > maxPublished {
		t.published = append([]Message(nil), t.published[len(t.published)-maxPublished:]...)
	}
	return id, nil
}

// publishEvent is EventBridge delivering an event to an SNS topic target.
func (e *Emulator) publishEvent(topicARN, event string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.appendMessage(topicARN, "", event); err != nil {
		return fmt.Errorf("publish to %s: %s", topicARN, err.Message)
	}
	return nil
}
