"""Static files through whitenoise, streamed the way the server that runs us expects.

Whitenoise (6.x) is a WSGI library: its Django middleware answers with a FileResponse over
an open file, a *synchronous* iterator. Under ASGI (uvicorn, daphne), Django can only send
such a response by reading the whole file in a thread first, and it warns each time
("StreamingHttpResponse must consume synchronous iterators..."). Under ASGI this middleware
gives the same response an asynchronous iterator that reads the file in chunks off the event
loop; under WSGI and the test client it answers exactly as whitenoise does.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from whitenoise.middleware import WhiteNoiseFileResponse, WhiteNoiseMiddleware

CHUNK_SIZE = 64 * 1024


async def _chunks(file):
    """The file's bytes, read in a worker thread chunk by chunk; closes it at the end."""
    if file is None:  # HEAD, 304 Not Modified
        return
    read = sync_to_async(file.read, thread_sensitive=False)
    try:
        while chunk := await read(CHUNK_SIZE):
            yield chunk
    finally:
        file.close()


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def serve(self, static_file, request):
        if not isinstance(request, ASGIRequest):
            return super().serve(static_file, request)
        response = static_file.get_response(request.method, request.META)
        http_response = WhiteNoiseFileResponse(_chunks(response.file), status=int(response.status))
        del http_response["content-type"]  # whitenoise's own headers say what it is
        for key, value in response.headers:
            http_response[key] = value
        return http_response
