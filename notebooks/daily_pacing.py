# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
sla_path = "../data/sample/sla.yaml"
source_path = "../data/sample/source.yaml"
as_of = ""  # YYYY-MM-DD; empty means the latest date in the data
output_dir = ""  # folder for pacing.json; empty means none
snapshot = ""  # set by `sla-toolkit run`: the run's computed result; empty means compute from the above

# %%
from IPython.display import HTML, display

from sla_toolkit.report import layout, sections
from sla_toolkit.snapshot import pacing_for_notebook

result = pacing_for_notebook(snapshot, sla_path, source_path, as_of=as_of or None, output_dir=output_dir)
display(HTML(sections.pacing_header(result)))

# %% [markdown]
# ## Are we on track for the deadline?

# %%
display(HTML(layout.pacing(result)))
