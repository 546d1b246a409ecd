package evidence

import (
	"errors"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
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

func parseCallerIdentity(path string, data []byte) (awscli.CallerIdentity, error) {
	var v awscli.CallerIdentity
	if err := decodeJSON(path, data, &v); err != nil {
		return awscli.CallerIdentity{}, err
	}
	if v.Account == "" {
		return awscli.CallerIdentity{}, notOutputOf(path, "Account", "aws sts get-caller-identity")
	}
	return v, nil
}

// parseDescribeAccount returns the account id and name.
func parseDescribeAccount(path string, data []byte) (id, name string, err error) {
	var v awscli.DescribeAccount
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
	var v awscli.DescribeRegions
	if err := decodeJSON(path, data, &v); err != nil {
		return nil, err
	}
	if v.Regions == nil {
		return nil, notOutputOf(path, "Regions", "aws ec2 describe-regions")
	}
	return v.Domain(), nil
}

// parseDescribeTrails returns the trails as the file lists them, shadow
// copies included; readAccount folds them by ARN (trailguard.FoldTrails).
func parseDescribeTrails(path string, data []byte) ([]trailguard.Trail, error) {
	var v awscli.DescribeTrails
	if err := decodeJSON(path, data, &v); err != nil {
		return nil, err
	}
	if v.TrailList == nil {
		return nil, notOutputOf(path, "trailList", "aws cloudtrail describe-trails")
	}
	out := make([]trailguard.Trail, 0, len(*v.TrailList))
	for _, c := range *v.TrailList {
		out = append(out, c.Domain())
	}
	return out, nil
}

func parseTrailStatus(path string, data []byte) (*trailguard.TrailStatus, error) {
	var v awscli.GetTrailStatus
	if err := decodeJSON(path, data, &v); err != nil {
		return nil, err
	}
	if v.IsLogging == nil {
		return nil, notOutputOf(path, "IsLogging", "aws cloudtrail get-trail-status")
	}
	return v.Domain(), nil
}

// parseEventSelectors returns the selectors and the TrailARN the file says
// they belong to ("" when it does not say).
func parseEventSelectors(path string, data []byte) (string, *trailguard.EventSelectors, error) {
	var v awscli.GetEventSelectors
	if err := decodeJSON(path, data, &v); err != nil {
		return "", nil, err
	}
	if v.EventSelectors == nil && v.AdvancedEventSelectors == nil {
		return "", nil, notOutputOf(path, "EventSelectors or AdvancedEventSelectors", "aws cloudtrail get-event-selectors")
	}
	return v.TrailARN, v.Domain(), nil
}

func parseErrors(path string, data []byte) (errorsFile, error) {
	var v errorsFile
	if err := decodeJSON(path, data, &v); err != nil {
		return errorsFile{}, err
	}
	return v, nil
}
