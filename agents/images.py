"""Images users attach to a chat message: checked, decoded with Pillow, never trusted."""

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

from agents.providers.base import ImagePart
from oagweb.errors import ApplicationError

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # GLM-4V's documented limit per image
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp",
                 "GIF": "image/gif"}


def image_part_parse(*, data_b64: str) -> ImagePart:
    """The attached image, if it is one of the accepted formats and at most 5 MB."""
    if len(data_b64) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ApplicationError("The image is larger than 5 MB")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError("The image is not valid base64") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ApplicationError("The image is larger than 5 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # reads the whole file: a truncated or forged one fails here
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ApplicationError("The file is not an image Pillow can read") from None
    if kind not in IMAGE_FORMATS:
        raise ApplicationError(f"{kind} images are not accepted: use PNG, JPEG, WebP or GIF")
    return ImagePart(data=data, mime_type=IMAGE_FORMATS[kind])
