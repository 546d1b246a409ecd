resource "aws_cloudtrail" "t" {
  count          = 0
  enable_logging = "yes"
  event_selector {
    read_write_type = "WriteOnly"
  }
}
variable "logging" { type = string }
locals { y = "x" }
