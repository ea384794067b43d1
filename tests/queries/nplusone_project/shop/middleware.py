"""The project's middleware: the only project frame of a request a library's view answers."""

import time


class RequestTimer:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.monotonic()
        response = self.get_response(request)
        response["X-Elapsed"] = f"{time.monotonic() - start:.6f}"
        return response
