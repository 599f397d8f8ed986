mod browser;
mod fixture;
mod page;
mod roll;
