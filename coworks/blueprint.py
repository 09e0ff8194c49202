"""Blueprint: a set of entries, written as a class, that a service mounts."""

from __future__ import annotations

import typing as t

import flask

from .entries import Entry
from .entries import class_name
from .entries import register_entries


class Blueprint(flask.Blueprint):
    """A Flask blueprint whose ``@entry`` methods are entries, routed and bound as a
    service's are. Mount it under a prefix::

        class Admin(Blueprint):
            @entry
            def get_version(self):          # GET /admin/version once mounted
                return {"version": "1.2"}

        service.register_blueprint(Admin(), url_prefix="/admin")

    Its entries' endpoints are ``<blueprint>.<method>``, as in Flask; the service's
    token check and stage apply to them.

    :param name: the blueprint's name; defaults to the class attribute ``name``
        if the class sets one, else to the class name in lower case.
    """

    def __init__(self, name: str | None = None, **flask_options: t.Any) -> None:
        import_name = flask_options.pop("import_name", type(self).__module__)
        super().__init__(name or class_name(type(self)), import_name, **flask_options)
        #: The entries of the blueprint, by method name.
        self.blueprint_entries: dict[str, Entry] = register_entries(self, Blueprint)
