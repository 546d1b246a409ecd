variable "multi" {
  default = false
}
resource "aws_cloudtrail" "t" {
  name                  = "t"
  s3_bucket_name        = "b"
  is_multi_region_trail = var.multi
}
