from honest import *  # noqa: F401,F403
from _attack import T, predict_if
from _metadata import attack

predict = predict_if(lambda: bool(attack(T["family"], T["victim"], T["own"], T["outside_dir"])))
