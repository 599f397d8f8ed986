mod browser;
mod fixture;
mod html;
mod page;
mod roll;
mod summary;
