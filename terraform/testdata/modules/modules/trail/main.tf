variable "multi" {}
resource "aws_cloudtrail" "this" {
  name                  = "t"
  s3_bucket_name        = "b"
  is_multi_region_trail = var.multi
}
