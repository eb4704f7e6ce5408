"""Where the shipped ``configs/`` and ``tools/`` are: the source checkout, or the package's ``.mim`` folder.

A source checkout (``pip install -e .``) keeps them next to the package (``<repo>/configs``, ``<repo>/tools``);
a wheel carries copies inside the package (``mmwsss/.mim/configs``, ``mmwsss/.mim/tools``, OpenMMLab's layout,
written by ``setup.py``), so ``mmwsss::wsss/....py`` style paths and the ``mmwsss`` command work from any folder.
"""
import os.path as osp

SHIPPED = ('configs', 'tools')


def shipped_path(name: str) -> str:
    """Absolute path of the shipped ``configs`` or ``tools`` folder (source checkout first, then ``.mim``)."""
    if name not in SHIPPED:
        raise ValueError(f'shipped folders are {SHIPPED}, not {name!r}')
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    source = osp.normpath(osp.join(package, '..', name))
    if osp.isfile(osp.join(package, '..', 'setup.py')) and osp.isdir(source):
        return source
    mim = osp.join(package, '.mim', name)
    if osp.isdir(mim):
        return mim
    raise FileNotFoundError(f'mmwsss {name}/ not found (looked in {source} and {mim}): reinstall mmwsss from its '
                            'wheel or a source checkout')
