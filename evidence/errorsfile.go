package evidence

// The AWS CLI's own files are modelled in package awscli; errors.json is
// trailguard's, written in the same style and read as exactly.

// errorsFile is errors.json (see the package documentation).
type errorsFile struct {
	DescribeTrails string                `json:"describe-trails,omitempty"`
	Regions        string                `json:"regions,omitempty"`
	Trails         map[string]trailError `json:"trails,omitempty"`
}

type trailError struct {
	GetTrailStatus    string `json:"get-trail-status,omitempty"`
	GetEventSelectors string `json:"get-event-selectors,omitempty"`
}

func (e errorsFile) empty() bool {
	return e.DescribeTrails == "" && e.Regions == "" && len(e.Trails) == 0
}
