package awsemu

import "sync"

// Where the emulator invokes a Lambda function: AWS Config rules and
// EventBridge targets name a function by ARN, and tests stand the function
// up on an HTTP endpoint of their own (an httptest server or the Lambda
// runtime interface emulator). The table lives beside the Emulator rather
// than in it so that the services that invoke functions share one lookup
// without changing the Emulator's own fields.
var lambdaEndpoints = struct {
	sync.Mutex
	m map[*Emulator]map[string]string
}{m: map[*Emulator]map[string]string{}}

// SetLambdaEndpoint says that functionARN is invoked by an HTTP POST of
// its event to url; "*" stands for every function without an endpoint of
// its own. An empty url removes the entry.
func (e *Emulator) SetLambdaEndpoint(functionARN, url string) {
	lambdaEndpoints.Lock()
	defer lambdaEndpoints.Unlock()
	m := lambdaEndpoints.m[e]
	if m == nil {
		m = map[string]string{}
		lambdaEndpoints.m[e] = m
	}
	if url == "" {
		delete(m, functionARN)
		return
	}
	m[functionARN] = url
}

// lambdaEndpoint is the invoke URL of functionARN, falling back to "*".
func (e *Emulator) lambdaEndpoint(functionARN string) (string, bool) {
	lambdaEndpoints.Lock()
	defer lambdaEndpoints.Unlock()
	m := lambdaEndpoints.m[e]
	if u, ok := m[functionARN]; ok {
		return u, true
	}
	u, ok := m["*"]
	return u, ok
}
