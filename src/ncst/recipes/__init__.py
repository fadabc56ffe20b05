"""Dataset recipes: corpora x codecs x splits -> official folders and label files.

`st_codecfake.toml` is the ST-Codecfake recipe as data; `build_recipe` builds it (or any recipe TOML)
with the dataset builder's runner, resume and shards; `verify_recipe_build` checks the result.
"""

from __future__ import annotations

from ncst.recipes.build import RecipeBuildConfig, RecipeBuildResult, build_recipe, resolve_recipe
from ncst.recipes.plan import PlannedFile, RecipePlan, plan_recipe, read_corpora
from ncst.recipes.recipe import RECIPES, ClassEntry, Recipe, RecipeError, SubsetEntry, add_class, load_recipe
from ncst.recipes.verify import verify_recipe_build

__all__ = [
    "RECIPES",
    "ClassEntry",
    "PlannedFile",
    "Recipe",
    "RecipeBuildConfig",
    "RecipeBuildResult",
    "RecipeError",
    "RecipePlan",
    "SubsetEntry",
    "add_class",
    "build_recipe",
    "load_recipe",
    "plan_recipe",
    "read_corpora",
    "resolve_recipe",
    "verify_recipe_build",
]
