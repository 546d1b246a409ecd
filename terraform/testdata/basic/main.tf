variable "multi_region" {
  type = bool
}

variable "logging" {
  default = true
}

locals {
  bucket = "audit-${var.logging ? "on" : "off"}"
}

resource "aws_cloudtrail" "literal_pass" {
  name                  = "org-audit"
  s3_bucket_name        = local.bucket
  is_multi_region_trail = true
}

resource "aws_cloudtrail" "absent_multi_region" {
  name           = "default"
  s3_bucket_name = "b"
}

resource "aws_cloudtrail" "logging_off" {
  name                  = "off"
  s3_bucket_name        = "b"
  is_multi_region_trail = true
  enable_logging        = false
}

resource "aws_cloudtrail" "string_true" {
  name                  = "str"
  s3_bucket_name        = "b"
  is_multi_region_trail = "true"
}

resource "aws_cloudtrail" "no_default" {
  name                  = "nd"
  s3_bucket_name        = "b"
  is_multi_region_trail = var.multi_region
}

resource "aws_cloudtrail" "fails_whatever" {
  name                  = "fw"
  s3_bucket_name        = "b"
  is_multi_region_trail = var.multi_region
  enable_logging        = false
}

resource "aws_cloudtrail" "read_only" {
  name                  = "ro"
  s3_bucket_name        = "b"
  is_multi_region_trail = true
  event_selector {
    read_write_type           = "ReadOnly"
    include_management_events = true
  }
}

resource "aws_cloudtrail" "data_only" {
  name                  = "data"
  s3_bucket_name        = "b"
  is_multi_region_trail = true
  event_selector {
    read_write_type           = "All"
    include_management_events = false
    data_resource {
      type   = "AWS::S3::Object"
      values = ["arn:aws:s3"]
    }
  }
}

resource "aws_cloudtrail" "advanced_readonly" {
  name                  = "adv"
  s3_bucket_name        = "b"
  is_multi_region_trail = true
  advanced_event_selector {
    name = "writes"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
    field_selector {
      field  = "readOnly"
      equals = ["false"]
    }
  }
}

resource "aws_cloudtrail" "advanced_all" {
  name                  = "adv-all"
  s3_bucket_name        = "b"
  is_multi_region_trail = true
  advanced_event_selector {
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }
}

resource "aws_cloudtrail" "counted" {
  count                 = 2
  name                  = "c${count.index}"
  s3_bucket_name        = "b"
  is_multi_region_trail = count.index == 0
}

resource "aws_cloudtrail" "none" {
  count          = 0
  name           = "never"
  s3_bucket_name = "b"
}

resource "aws_cloudtrail" "each" {
  for_each              = { prod = true, dev = false }
  name                  = each.key
  s3_bucket_name        = "b"
  is_multi_region_trail = each.value
}

resource "aws_cloudtrail" "dynamic_selectors" {
  name                  = "dyn"
  s3_bucket_name        = "b"
  is_multi_region_trail = true
  dynamic "event_selector" {
    for_each = ["WriteOnly"]
    content {
      read_write_type = event_selector.value
    }
  }
}

// trailguard:ignore cis-aws-3.1 regional test trail, reviewed by security
resource "aws_cloudtrail" "ignored" {
  name           = "ig"
  s3_bucket_name = "b"
}
