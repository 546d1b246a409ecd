package evidence

import (
	"errors"

	"github.com/trailguard/trailguard"
)

// The parsers below turn the bytes of one evidence file into domain values.
// They do no I/O (the fuzz tests call them directly); path only names the
// file in errors. A member that the command always prints and that decides
// the verdict (trailList, IsLogging, the selector lists) must be present:
// a file without it is not the output of that command, and guessing would
// turn missing data into a verdict.

func notOutputOf(path, member, command string) error {
	return &FileError{Path: path, Err: errors.New("no " + member + ": not the output of " + command)}
}

func parseCallerIdentity(path string, data []byte) (callerIdentity, error) {
	var v callerIdentity
	if err := decodeJSON(path, data, &v); err != nil {
		return callerIdentity{}, err
	}
	if v.Account == "" {
		return callerIdentity{}, notOutputOf(path, "Account", "aws sts get-caller-identity")
	}
	return v, nil
}

// parseDescribeAccount returns the account id and name.
func parseDescribeAccount(path string, data []byte) (id, name string, err error) {
	var v describeAccount
	if err := decodeJSON(path, data, &v); err != nil {
		return "", "", err
	}
	if v.Account == nil {
		return "", "", notOutputOf(path, "Account", "aws organizations describe-account")
	}
	return v.Account.ID, v.Account.Name, nil
}

// parseRegions returns the regions, never nil on success (nil means "not
// read" in the domain).
func parseRegions(path string, data []byte) ([]trailguard.Region, error) {
	var v describeRegions
	if err := decodeJSON(path, data, &v); err != nil {
		return nil, err
	}
	if v.Regions == nil {
		return nil, notOutputOf(path, "Regions", "aws ec2 describe-regions")
	}
	out := make([]trailguard.Region, 0, len(*v.Regions))
	for _, r := range *v.Regions {
		out = append(out, trailguard.Region{Name: r.RegionName, OptInStatus: r.OptInStatus})
	}
	return out, nil
}

// parseDescribeTrails returns the trails as the file lists them, shadow
// copies included; readAccount folds them by ARN (trailguard.FoldTrails).
func parseDescribeTrails(path string, data []byte) ([]trailguard.Trail, error) {
	var v describeTrails
	if err := decodeJSON(path, data, &v); err != nil {
		return nil, err
	}
	if v.TrailList == nil {
		return nil, notOutputOf(path, "trailList", "aws cloudtrail describe-trails")
	}
	out := make([]trailguard.Trail, 0, len(*v.TrailList))
	for _, c := range *v.TrailList {
		out = append(out, trailFromCLI(c))
	}
	return out, nil
}

func parseTrailStatus(path string, data []byte) (*trailguard.TrailStatus, error) {
	var v getTrailStatus
	if err := decodeJSON(path, data, &v); err != nil {
		return nil, err
	}
	if v.IsLogging == nil {
		return nil, notOutputOf(path, "IsLogging", "aws cloudtrail get-trail-status")
	}
	return statusFromCLI(v), nil
}

// parseEventSelectors returns the selectors and the TrailARN the file says
// they belong to ("" when it does not say).
func parseEventSelectors(path string, data []byte) (string, *trailguard.EventSelectors, error) {
	var v getEventSelectors
	if err := decodeJSON(path, data, &v); err != nil {
		return "", nil, err
	}
	if v.EventSelectors == nil && v.AdvancedEventSelectors == nil {
		return "", nil, notOutputOf(path, "EventSelectors or AdvancedEventSelectors", "aws cloudtrail get-event-selectors")
	}
	return v.TrailARN, selectorsFromCLI(v), nil
}

func parseErrors(path string, data []byte) (errorsFile, error) {
	var v errorsFile
	if err := decodeJSON(path, data, &v); err != nil {
		return errorsFile{}, err
	}
	return v, nil
}
