"""The annotation server: a thin FastAPI layer over :class:`~goldsmith.project.Project`.

Routes load what they need, authorize through a policy per resource (:mod:`.policies`), then
call ``Project``. No labeling logic lives here.
"""

from goldsmith.server.app import create_app
from goldsmith.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
