"""URL modules of the pages whose POST verbs are workflow actions. Each serves an app's own patterns under its
own namespace and paths (so page links and ``reverse`` names do not change) plus the verbs' patterns, whose
views live with their pages in the app and are given the workflow action as a URL keyword argument (an app
cannot import the layer above it). oms/urls.py includes these modules instead of the apps' own."""
