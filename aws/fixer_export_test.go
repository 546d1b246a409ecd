package aws

// ErrUnknownStep is errUnknownStep for the tests of package aws_test.
var ErrUnknownStep = errUnknownStep
