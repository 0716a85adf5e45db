from django.urls import path

from posts.api import views

urlpatterns = [
    path("posts/", views.PostListApi.as_view(), name="post_list"),
    path("posts/<str:slug>/", views.PostDetailApi.as_view(), name="post_detail"),
    path(
        "posts/<str:slug>/publish/",
        views.PostPublishApi.as_view(),
        name="post_publish",
    ),
    path(
        "posts/<str:slug>/unpublish/",
        views.PostUnpublishApi.as_view(),
        name="post_unpublish",
    ),
    path("categories/", views.CategoryListApi.as_view(), name="category_list"),
    path(
        "categories/<str:slug>/",
        views.CategoryDetailApi.as_view(),
        name="category_detail",
    ),
]
