"""``python -m mmwsss ...``: the ``mmwsss`` console command (:mod:`mmwsss.commands`)."""
from mmwsss.commands import main

main()
