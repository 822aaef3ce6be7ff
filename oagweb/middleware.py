from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


def api_json_errors(get_response: Callable[[HttpRequest], HttpResponse]):
    """Errors under /api/ that did not come from the API's own handlers (405 from the URL
    dispatcher, Django's 400/500 pages) are turned into `{"detail": ...}` too."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            detail = response.reason_phrase
            if response.status_code == 405 and response.has_header("Allow"):
                detail = f"Method {request.method} not allowed; use {response['Allow']}"
            converted = JsonResponse({"detail": detail}, status=response.status_code)
            if response.has_header("Allow"):
                converted["Allow"] = response["Allow"]
            return converted
        return response

    return middleware
