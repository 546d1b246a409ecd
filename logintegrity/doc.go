// Package logintegrity proves that the log files of a CloudTrail trail are
// the ones CloudTrail delivered: it walks the hourly, signed digest files
// newest first, verifies each digest's RSA signature with the region's
// public key from CloudTrail ListPublicKeys, and checks every log file a
// valid digest lists against the SHA-256 it records.
//
// It decides each file as `aws cloudtrail validate-logs` does — valid, not
// found, hash mismatch, invalid signature, invalid format, moved, public key
// not found, and gaps in the chain — so that its verdicts can be compared
// file by file with the AWS CLI's. Where it is stricter it says so in the
// detail of the problem (a digest whose newer neighbour recorded another
// signature or hash for it is a broken chain).
//
// Everything read from S3 is hostile: sizes are capped before and after
// decompression, the digest JSON is parsed with exact keys, no duplicates
// and a depth limit, and log files are hashed while they stream, so memory
// does not grow with the number of log files.
package logintegrity
