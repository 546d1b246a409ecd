package awsemu

// Where the emulator invokes a Lambda function: AWS Config rules and
// EventBridge targets name a function by ARN, and tests stand the function
// up on an HTTP endpoint of their own (an httptest server or the Lambda
// runtime interface emulator).

import "sync"

// initSide sets up the state that has locks of its own.
func (e *Emulator) initSide() {
	e.config = &configState{rules: map[string]*configRule{}, tokens: map[string]issuedToken{}, pending: map[string]int{},
		orgRules: map[string]*orgConfigRule{}, orgSLR: map[string]bool{}}
	e.config.settled = sync.NewCond(&e.config.mu)
	e.lambdas = map[string]string{}
}

// SetLambdaEndpoint says that functionARN is invoked by an HTTP POST of
// its event to url; "*" stands for every function without an endpoint of
// its own. An empty url removes the entry.
func (e *Emulator) SetLambdaEndpoint(functionARN, url string) {
	e.sideOnce.Do(e.initSide)
	e.lambdasMu.Lock()
	defer e.lambdasMu.Unlock()
	if url == "" {
		delete(e.lambdas, functionARN)
		return
	}
	e.lambdas[functionARN] = url
}

// lambdaEndpoint is the invoke URL of functionARN, falling back to "*".
func (e *Emulator) lambdaEndpoint(functionARN string) (string, bool) {
	e.sideOnce.Do(e.initSide)
	e.lambdasMu.Lock()
	defer e.lambdasMu.Unlock()
	if u, ok := e.lambdas[functionARN]; ok {
		return u, true
	}
	u, ok := e.lambdas["*"]
	return u, ok
}
