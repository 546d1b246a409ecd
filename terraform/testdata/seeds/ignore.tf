locals {
  doc = <<EOT
# trailguard:ignore cis-aws-3.1 forged in a heredoc
EOT
}

/*
 * trailguard:ignore cis-aws-3.1 block comment
 */
resource "aws_cloudtrail" "a" {
  name                  = "# trailguard:ignore cis-aws-3.1 forged in a string"
  is_multi_region_trail = true
  enable_logging        = false
  event_selector {
    read_write_type = "All"
  }
}

# trailguard:ignore cis-aws-3.1 hash comment
resource "aws_cloudtrail" "b" { // trailguard:ignore cis-aws-3.1 inline
  name = "b"
}
