"""Sphinx extension: every figure of a notebook gets an alt text that says what it shows.

A notebook output holds a figure twice: as image/png and as text/plain. ``nnpractice.plots.style()`` (which
every chapter's setup calls) makes a matplotlib figure's text/plain a description of the figure, made from
the figure itself (``nnpractice.plots.describe``: title, panels, axes, legend). MyST-NB keeps every MIME type
of an output until its ``SelectMimeType`` post-transform picks one per builder; just before it, this extension
copies the text/plain of each output onto the image of the same output as its ``alt``. An alt set explicitly
(the ``mystnb: image: alt:`` cell metadata) is kept. Without this, Sphinx writes the image's file path as alt.
"""
from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def _mime_children(bundle: nodes.Element) -> dict:
    return {child.get("mime_type"): child for child in bundle.children if isinstance(child, nodes.Element)}


class FigureAltText(SphinxPostTransform):
    """Give each notebook image output the text/plain of its own output as alt text."""

    default_priority = 3  # before MyST-NB's SelectMimeType (4) drops the text/plain beside the image

    def run(self, **kwargs) -> None:
        for bundle in self.document.findall(nodes.container):
            if bundle.get("nb_element") != "mime_bundle":
                continue
            children = _mime_children(bundle)
            plain = children.get("text/plain")
            if plain is None:
                continue
            text = " ".join(plain.astext().split())
            if not text:
                continue
            for mime_type in IMAGE_TYPES:
                if mime_type in children:
                    for image in children[mime_type].findall(nodes.image):
                        if not image.get("alt"):
                            image["alt"] = text


def setup(app):
    app.add_post_transform(FigureAltText)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
