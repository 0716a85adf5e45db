from django.contrib.sitemaps.views import sitemap
from django.urls import path

from posts import feeds, views
from posts.cache import public_post_page
from posts.sitemaps import SITEMAPS

app_name = "posts"

urlpatterns = [
    path("", views.home, name="home"),
    path("posts/<str:category>/<str:slug>/", views.post_detail, name="detail"),
    path("categories/", views.category_list, name="categories"),
    path("categories/<str:slug>/", views.category_detail, name="category"),
    path(
        "categories/<str:slug>/feed/rss/",
        public_post_page(feeds.CategoryFeed()),
        name="category_feed_rss",
    ),
    path(
        "categories/<str:slug>/feed/atom/",
        public_post_page(feeds.CategoryAtomFeed()),
        name="category_feed_atom",
    ),
    path("authors/<str:username>/", views.author_detail, name="author"),
    path("tags/<str:slug>/", views.tag_detail, name="tag"),
    path("search/", views.search, name="search"),
    path("feed/rss/", public_post_page(feeds.LatestPostsFeed()), name="feed_rss"),
    path("feed/atom/", public_post_page(feeds.LatestPostsAtomFeed()), name="feed_atom"),
    path("robots.txt", views.robots_txt, name="robots"),
]

# Outside the app namespace: django.contrib.sitemaps reverses "sitemap" by name.
sitemap_urlpatterns = [
    path(
        "sitemap.xml",
        public_post_page(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
]
