variable "logging" {
  type    = bool
  default = "0"
}
variable "cfg" {
  type    = object({ multi = optional(bool, true), names = optional(set(string), []) })
  default = {}
}
variable "create" {}
locals {
  z      = local.y
  y      = "${terraform.workspace}-${var.create}"
  policy = <<-EOT
    {"Statement": [{"Resource": ["${local.z}"]}]}
    EOT
}
resource "aws_cloudtrail" "t" {
  count                         = var.create ? 1 : 0
  is_multi_region_trail         = var.cfg.multi
  enable_logging                = var.logging
  include_global_service_events = "false"
  dynamic "event_selector" {
    for_each = var.cfg.names
    content {
      read_write_type           = event_selector.value
      include_management_events = "1"
    }
  }
  advanced_event_selector {
    field_selector {
      field         = "eventCategory"
      equals        = ["Management"]
      not_ends_with = ["x"]
    }
  }
}
module "reg" {
  source   = "terraform-aws-modules/cloudtrail/aws"
  for_each = toset(["a"])
}
module "local" {
  source = "./nowhere"
  count  = 0
}
