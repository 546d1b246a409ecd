module "prod" {
  source = "./modules/trail"
  multi  = true
}
module "dev" {
  source = "./modules/trail"
  multi  = false
}
